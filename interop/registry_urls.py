from django.urls import path

from . import registry_views

app_name = "interop"

urlpatterns = [
    path("", registry_views.overview, name="registry"),
    path("infusions/<int:infusion_id>/", registry_views.report, name="registry_report"),
    path("infusions/<int:infusion_id>/state/", registry_views.mark, name="registry_mark"),
    path("<slug:registry_name>.csv", registry_views.cohort_csv, name="registry_csv"),
]
