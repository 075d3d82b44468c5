"""The Django admin shows patient data only for the care teams where the user is an admin, and
clinical facts (observations, grade evaluations) are read-only there.

``enforce()`` runs from ``AuditConfig.ready()`` after the admin has discovered every app's
``admin.py``: whatever ModelAdmin the owning app registered is wrapped with the scoping mixin (or a
plain scoped one is registered), so a new admin class cannot forget the rule.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from accounts.models import Role

# model label -> lookup from the model to its care team id
PATIENT_DATA_MODELS: dict[str, str] = {
    "monitoring.Patient": "care_team_id",
    "monitoring.Infusion": "care_team_id",
    "monitoring.Observation": "infusion__care_team_id",
    "monitoring.GradeEvaluation": "infusion__care_team_id",
    "monitoring.MissedCheck": "infusion__care_team_id",
    "alerts.Alert": "care_team_id",
}
APPEND_ONLY_MODELS = {"monitoring.Observation", "monitoring.GradeEvaluation"}
# Choices offered in admin forms are scoped the same way (a dropdown must not list other teams' patients).
FK_SCOPES: dict[str, str] = {"patient": "care_team_id", "infusion": "care_team_id", "care_team": "id"}


def admin_team_ids(user) -> list[int]:
    return user.team_ids(Role.ADMIN) if getattr(user, "is_authenticated", False) else []


class TeamScopedAdminMixin:
    team_lookup = "care_team_id"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(**{f"{self.team_lookup}__in": admin_team_ids(request.user)})
        )

    def _team_allowed(self, request, obj) -> bool:
        teams = admin_team_ids(request.user)
        if not teams:
            return False
        if obj is None:
            return True
        return type(obj)._default_manager.filter(pk=obj.pk, **{f"{self.team_lookup}__in": teams}).exists()

    def has_module_permission(self, request):
        return bool(admin_team_ids(request.user))

    def has_view_permission(self, request, obj=None):
        return self._team_allowed(request, obj)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._team_allowed(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._team_allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._team_allowed(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        lookup = FK_SCOPES.get(db_field.name)
        if lookup is not None:
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                **{f"{lookup}__in": admin_team_ids(request.user)}
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AppendOnlyAdminMixin:
    """Clinical facts are corrected by amending in the app (a new row), never edited or deleted."""

    def has_add_permission(self, request, *args, **kwargs):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def scoped_admin_class(label: str, base: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    mixins: tuple[type, ...] = (TeamScopedAdminMixin,)
    if label in APPEND_ONLY_MODELS:
        mixins = (AppendOnlyAdminMixin, *mixins)
    return type(f"Scoped{base.__name__}", (*mixins, base), {"team_lookup": PATIENT_DATA_MODELS[label]})


def enforce(site: admin.AdminSite = admin.site) -> None:
    for label in PATIENT_DATA_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        base = type(site._registry[model]) if site.is_registered(model) else admin.ModelAdmin
        if issubclass(base, TeamScopedAdminMixin):
            continue
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, scoped_admin_class(label, base))
