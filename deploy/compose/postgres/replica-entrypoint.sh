#!/bin/sh
# Entry point of the streaming replica (docker-compose.yml, postgres-replica), run as the postgres
# user. On first start it copies the primary with pg_basebackup, which also writes the standby
# settings (standby.signal, primary_conninfo with the slot); later starts reuse the data directory.
#   PGDATA                          data directory of the replica
#   PRIMARY_HOST, PRIMARY_PORT      the primary (postgres, 5432)
#   POSTGRES_REPLICATION_PASSWORD   password of the "replicator" role (primary-init.sh)
#   REPLICATION_SLOT                the primary's slot for this replica (replica1)
# Further arguments go to postgres (e.g. -c hot_standby_feedback=on).
set -eu
: "${PGDATA:?set PGDATA}" "${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD}"
host="${PRIMARY_HOST:-postgres}"
port="${PRIMARY_PORT:-5432}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready --host="$host" --port="$port" --quiet; do
    echo "waiting for the primary at $host:$port"
    sleep 1
  done
  PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" pg_basebackup --pgdata="$PGDATA" \
    --host="$host" --port="$port" --username=replicator --no-password \
    --wal-method=stream --checkpoint=fast --write-recovery-conf \
    --slot="${REPLICATION_SLOT:-replica1}"
  chmod 0700 "$PGDATA"
fi

exec postgres -D "$PGDATA" "$@"
