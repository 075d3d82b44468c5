"""The demo ward: ``manage.py seed_demo`` (patients, grades, escalation policies and on-call schedules)."""
