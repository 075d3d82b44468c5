"""Alerts, escalation policies, on-call schedules, escalation steps and notifications."""
