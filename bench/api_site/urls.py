"""The real API plus one bare Django view that inserts a row (the comparison baseline)."""

from django.urls import include, path

from .views import bare_observation

urlpatterns = [
    path("api/", include("config.api_urls")),
    path("bare/observations/", bare_observation, name="bench-bare-observation"),
]
