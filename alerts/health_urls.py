"""``/health/escalations``: included at the root by config/urls.py."""

from django.urls import path

from . import views

urlpatterns = [path("escalations", views.health_escalations, name="health-escalations")]
