"""Every API token expires (existing tokens without an expiry get one a year after their issue), and
the keys of the removed ``rest_framework.authtoken`` (stored in clear) are deleted with its table."""

from datetime import timedelta

from django.db import migrations, models


def give_every_token_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True):
        token.expires_at = token.created_at + timedelta(days=365)
        token.save(update_fields=["expires_at"])


def drop_drf_token_table(apps, schema_editor):
    if "authtoken_token" in schema_editor.connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name('authtoken_token')}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_token")]

    operations = [
        migrations.RunPython(give_every_token_an_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="At most 365 days after issue"),
        ),
        migrations.RunPython(drop_drf_token_table, migrations.RunPython.noop),
    ]
