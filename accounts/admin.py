from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminSignInForm
from .models import ApiToken, CareTeam, Membership, Role, User
from .token_admin import issue_token_action
from .tokens import revoke_api_token

# The admin's sign-in refuses an over-long username like the site's (AdminSite.login_form).
admin.site.login_form = AdminSignInForm


def admin_teams(request) -> list[int]:
    """Teams where the request's user is an admin; none when signed out (the admin's login page asks
    every ModelAdmin ``has_module_permission`` before anyone has signed in)."""
    return request.user.team_ids(Role.ADMIN) if request.user.is_authenticated else []


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    actions = [issue_token_action]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Contact", {"fields": ("display_name", "phone", "pager")}))


@admin.register(CareTeam)
class CareTeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the Team accounts screen (``accounts:team_accounts``, an admin's own
    teams), with the users' action "Issue an API token" or ``manage.py issue_api_token`` (the key is
    shown once); here they can be inspected and revoked, never edited (a changed scope would be a
    different credential)."""

    list_display = (
        "name",
        "prefix",
        "user",
        "team",
        "scope_list",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("team",)
    readonly_fields = [f.name for f in ApiToken._meta.get_fields() if f.concrete and f.name != "key_hash"]
    exclude = ("key_hash",)
    actions = ["revoke"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_api_token(token=token)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(team_id__in=admin_teams(request))

    # The admin role of a team is what lets a person see its tokens (not a Django permission
    # flag): the demo admin and every team admin open this list without a 403.
    def has_module_permission(self, request):
        return bool(admin_teams(request))

    def has_view_permission(self, request, obj=None):
        teams = admin_teams(request)
        return bool(teams) and (obj is None or obj.team_id in teams)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
