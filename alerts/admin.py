from django.contrib import admin

from .models import (
    Alert,
    AlertEvent,
    AuditorHeartbeat,
    CheckTask,
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationStep,
    Notification,
    OnCallMember,
    OnCallOverride,
    OnCallSchedule,
    OperationsAlarm,
)


class PolicyStepInline(admin.TabularInline):
    model = EscalationPolicyStep
    extra = 0


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "name", "repeat_count", "reminder_minutes", "updated_at"]
    inlines = [PolicyStepInline]


class MemberInline(admin.TabularInline):
    model = OnCallMember
    extra = 0


class OverrideInline(admin.TabularInline):
    model = OnCallOverride
    extra = 0
    fk_name = "schedule"


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(admin.ModelAdmin):
    list_display = ["team", "slot", "start_date", "handover_time", "shift_days"]
    inlines = [MemberInline, OverrideInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Alerts, steps and notifications are changed by the escalation engine only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "care_team",
        "syndrome",
        "grade",
        "urgency",
        "status",
        "opened_at",
        "first_notified_at",
        "acknowledged_at",
    ]
    list_filter = ["status", "urgency", "syndrome", "care_team"]


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnlyAdmin):
    list_display = ["id", "alert", "generation", "sequence", "kind", "due_at", "status", "sent_at"]
    list_filter = ["status", "kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "alert", "recipient", "channel", "status", "created_at", "sent_at"]
    list_filter = ["channel", "status"]


admin.site.register(AlertEvent, ReadOnlyAdmin)
admin.site.register(AuditorHeartbeat, ReadOnlyAdmin)
admin.site.register(CheckTask, ReadOnlyAdmin)


@admin.register(OperationsAlarm)
class OperationsAlarmAdmin(admin.ModelAdmin):
    list_display = ["kind", "team", "message", "raised_at", "occurrences", "cleared_at"]
    list_filter = ["kind", "cleared_at"]
