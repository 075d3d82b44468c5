"""The change history of API tokens follows ``accounts`` 0003: every token has an expiry."""

from datetime import timedelta

from django.db import migrations, models


def give_every_version_an_expiry(apps, schema_editor):
    HistoricalApiToken = apps.get_model("audit", "HistoricalApiToken")
    for version in HistoricalApiToken.objects.filter(expires_at__isnull=True):
        version.expires_at = (version.created_at or version.history_date) + timedelta(days=365)
        version.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_alert_history_escalation_stopped"),
        ("accounts", "0003_api_token_expiry_required_drop_drf_tokens"),
    ]

    operations = [
        migrations.RunPython(give_every_version_an_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="historicalapitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="At most 365 days after issue"),
        ),
    ]
