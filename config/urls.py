from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("health/", health.liveness, name="health"),
    path("health/", include("alerts.health_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("", include("monitoring.urls")),
    path("", include("dashboards.urls")),
    path("alerts/", include("alerts.urls")),
    path("followup/", include("followup.urls")),
    path("api/", include("config.api_urls")),
    path("fhir/", include("interop.urls")),
    path("registry/", include("interop.registry_urls")),
]
