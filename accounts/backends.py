"""Authentication backend: django-axes lockout in front of the model backend."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check (username + IP).  Calls without a request (``manage.py`` scripts, the test
    client's ``login()``) have no IP to lock and are passed on to the next backend unchecked; every
    web sign-in (login form, admin, DRF) passes the request and is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
