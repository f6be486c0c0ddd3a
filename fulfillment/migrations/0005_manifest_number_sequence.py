from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS oms_number_manifest_seq")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS oms_number_manifest_seq")


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0004_carrier_oauth_parcels_manifests"),
        ("oms", "0002_number_sequences"),
    ]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]
