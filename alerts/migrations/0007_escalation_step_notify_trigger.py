"""PostgreSQL: every pending escalation step that is inserted, or whose due time or status changes, sends
NOTIFY on the channel the alert dispatcher LISTENs on (alerts/dispatcher.py), so a new or re-timed step
wakes it however it was written (ORM, bulk_create, raw SQL). Not for a step due within the second: the
code that writes one sends it itself after its commit (the first page of a new alert), and a dispatcher
woken for it would race that sender and queue the page behind other work. Other databases: nothing
(the dispatcher polls there)."""

from django.db import migrations

CHANNEL = "carttrack_escalation_steps"

CREATE = f"""
CREATE OR REPLACE FUNCTION alerts_escalationstep_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS alerts_escalationstep_notify ON alerts_escalationstep;
CREATE TRIGGER alerts_escalationstep_notify
    AFTER INSERT OR UPDATE OF due_at, status ON alerts_escalationstep
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.due_at > clock_timestamp() + interval '1 second')
    EXECUTE FUNCTION alerts_escalationstep_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS alerts_escalationstep_notify ON alerts_escalationstep;
DROP FUNCTION IF EXISTS alerts_escalationstep_notify();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0006_oncall_schedule_role")]

    operations = [migrations.RunPython(create, drop)]
