"""The whole site (API, screens) plus one bare Django view that inserts a row (the comparison
baseline): ``bench/observation_post.py`` posts to the API, ``bench/network_load.py`` also polls the
census and the inbox."""

from django.urls import path

from config.urls import urlpatterns as site_urlpatterns

from .views import bare_observation

urlpatterns = [
    path("bare/observations/", bare_observation, name="bench-bare-observation"),
    *site_urlpatterns,
]
