#!/bin/sh
# Runs once, when the official postgres image initialises an empty data directory
# (mounted into /docker-entrypoint-initdb.d/): the role and the slot the streaming replica uses.
#   POSTGRES_REPLICATION_PASSWORD  password of the "replicator" role (required)
#   REPLICATION_SLOT               physical slot that keeps WAL until the replica has it (replica1)
set -eu
: "${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD}"
slot="${REPLICATION_SLOT:-replica1}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=password="$POSTGRES_REPLICATION_PASSWORD" --set=slot="$slot" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SELECT pg_create_physical_replication_slot(:'slot')
WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
SQL

# Replication connections match no "all" database line: allow them for this role, with a password.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
