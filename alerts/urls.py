from django.urls import path

from . import status_banner, views

app_name = "alerts"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/items/", views.inbox_items, name="inbox_items"),
    path("<int:alert_id>/", views.alert_link, name="detail"),
    path("patients/<int:patient_id>/alerts/<int:alert_id>/", views.alert_detail, name="detail_full"),
    path("<int:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:alert_id>/note/", views.add_note, name="note"),
    path("<int:alert_id>/resolve/", views.resolve, name="resolve"),
    path("check-tasks/<int:task_id>/missed/", views.record_missed, name="record_missed"),
    path("oncall/", views.oncall, name="oncall"),
    path("oncall/<int:schedule_id>/override/", views.oncall_override, name="oncall_override"),
    path("oncall/<int:schedule_id>/swap/", views.oncall_swap, name="oncall_swap"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:team_id>/edit/", views.policy_edit, name="policy_edit"),
    path("operations/", views.operations, name="operations"),
    path("status/", status_banner.alerting_status, name="status"),
    path("operations/<int:alarm_id>/clear/", views.clear_alarm, name="clear_alarm"),
]
