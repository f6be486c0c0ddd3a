"""Data migration: the django-q2 schedules of the channel sync. Every minute
``intake.tasks.channel_sync_sweep`` pushes the stock and sends the outbox messages
whose backoff is over (the pushes after each change are queued at commit); every 15
minutes ``intake.tasks.reconcile_channel_orders`` polls the channels for orders whose
webhook was lost. And the manager group's permissions on the channel sync models
(after every app whose models the groups cover). Idempotent."""

from django.db import migrations

NAMES = ("Channel sync sweep", "Reconcile channel orders")  # listed in kernel.schedules


def create_schedules(apps, schema_editor):
    from kernel.roles import sync_groups
    from kernel.schedules import ensure_schedules

    sync_groups(apps)  # the manager group's permissions on the channel sync models
    ensure_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


def remove_schedules(apps, schema_editor):
    from kernel.schedules import remove_schedules

    remove_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("oms", "0007_webhooks_sweep_schedule"),
        ("fulfillment", "0005_manifest_number_sequence"),
        ("returns", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
