from django.contrib import admin

from monitoring.models import Patient

from .admin_scoping import admin_team_ids
from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log is evidence; nobody edits or deletes it (the audit view is /audit/)."""

    list_display = ("at", "username", "patient_id", "view_name", "ip_address", "via_api_token")
    list_filter = ("via_api_token",)
    search_fields = ("username",)
    date_hierarchy = "at"

    def get_queryset(self, request):
        teams = admin_team_ids(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(patient_id__in=Patient.objects.filter(care_team_id__in=teams).values("id"))
        )

    def has_module_permission(self, request):
        return bool(admin_team_ids(request.user))

    def has_view_permission(self, request, obj=None):
        return bool(admin_team_ids(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
