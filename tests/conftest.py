"""Fixtures shared by the Django test packages: a care team with one user per role, another team,
a product, and a patient with an active infusion."""

import pytest

from accounts.models import Role

from . import factories


@pytest.fixture
def team(db):
    return factories.make_team("Haematology ward")


@pytest.fixture
def other_team(db):
    return factories.make_team("Rheumatology ward")


@pytest.fixture
def nurse(team):
    return factories.make_user(Role.NURSE, team, username="nurse")


@pytest.fixture
def physician(team):
    return factories.make_user(Role.PHYSICIAN, team, username="physician")


@pytest.fixture
def coordinator(team):
    return factories.make_user(Role.COORDINATOR, team, username="coordinator")


@pytest.fixture
def site_admin(team):
    return factories.make_user(Role.ADMIN, team, username="siteadmin")


@pytest.fixture
def product(db):
    return factories.make_product("Axicabtagene ciloleucel", high_icans_risk=True)


@pytest.fixture
def patient(team):
    return factories.make_patient(team)


@pytest.fixture
def infusion(patient, product):
    return factories.make_infusion(patient, product)


@pytest.fixture
def other_patient(other_team):
    return factories.make_patient(other_team)


@pytest.fixture(autouse=True)
def _forget_cached_courses():
    """Each test starts with no graded course in memory (ids may repeat after a database reset)."""
    from monitoring.course_cache import COURSES

    COURSES.clear()
    yield
    COURSES.clear()
