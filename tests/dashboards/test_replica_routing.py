"""Which database a query goes to (monitoring/replica.py), without a replica server: the real one is in
test_read_replica.py."""

import pytest
from django.db import router

from monitoring import replica
from monitoring.models import Observation, Patient

pytestmark = pytest.mark.django_db

USABLE = replica.ReplicaStatus(configured=True, used=True, lag_seconds=0.4)


def test_outside_an_opted_in_view_every_query_goes_to_the_primary():
    assert Patient.objects.all().db == "default"
    assert router.db_for_write(Observation) == "default"


def test_inside_reads_go_to_the_replica_and_writes_still_to_the_primary(monkeypatch):
    monkeypatch.setattr(replica, "replica_status", lambda: USABLE)
    with replica.replica_reads() as status:
        assert status.message == "Read from the replica, 0.4 s behind the primary."
        assert Patient.objects.all().db == "replica"
        assert router.db_for_write(Observation) == "default"
        assert router.db_for_write(Patient, instance=Patient(pk=1)) == "default"
    assert Patient.objects.all().db == "default"


def test_an_unusable_replica_is_not_read_and_the_page_says_why(monkeypatch):
    behind = replica.ReplicaStatus(
        configured=True,
        used=False,
        lag_seconds=95.0,
        problem="The read replica is 95 s behind (more than 30 s)",
    )
    monkeypatch.setattr(replica, "replica_status", lambda: behind)
    with replica.replica_reads() as status:
        assert Patient.objects.all().db == "default"
    assert (
        status.message == "The read replica is 95 s behind (more than 30 s): read from the primary instead."
    )


def test_without_database_replica_url_the_census_says_nothing_about_a_replica(client, coordinator):
    client.force_login(coordinator)
    page = client.get("/census/").content.decode()
    assert "replica" not in page.lower()
    assert replica.replica_status() == replica.ReplicaStatus(configured=False, used=False)
