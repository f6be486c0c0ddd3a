"""Data migration: the number sequences of purchase orders (PO-) and transfers (TR-) on
PostgreSQL, and the role groups' permissions on the new inbound models. Idempotent."""

from django.db import migrations

KINDS = ("purchaseorder", "transfer")


def forwards(apps, schema_editor):
    from kernel.roles import sync_groups

    if schema_editor.connection.vendor == "postgresql":
        for kind in KINDS:
            schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS oms_number_{kind}_seq")
    sync_groups(apps)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for kind in KINDS:
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS oms_number_{kind}_seq")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_suppliers_purchase_orders_transfers"),
        ("oms", "0007_webhooks_sweep_schedule"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
