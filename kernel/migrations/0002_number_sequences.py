from django.db import migrations

KINDS = ("order", "shipment", "picklist", "return", "import")


def create_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for kind in KINDS:
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS oms_number_{kind}_seq")


def drop_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for kind in KINDS:
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS oms_number_{kind}_seq")


class Migration(migrations.Migration):
    dependencies = [("oms", "0001_initial")]
    operations = [migrations.RunPython(create_sequences, drop_sequences)]
