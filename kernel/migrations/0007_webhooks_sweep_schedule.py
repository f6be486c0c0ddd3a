"""Data migration: the django-q2 schedule that sweeps outgoing webhooks (re-queues
attempts whose task was lost, closes attempts a dead worker left 'sending'), as listed
in ``kernel.schedules``, and the manager group's permissions on the new webhook and intake
models. Idempotent."""

from django.db import migrations

NAMES = ("Sweep outgoing webhooks",)


def forwards(apps, schema_editor):
    from kernel.roles import sync_groups
    from kernel.schedules import ensure_schedules

    ensure_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)
    sync_groups(apps)


def backwards(apps, schema_editor):
    from kernel.schedules import remove_schedules

    remove_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0006_webhooks_and_channel_intake"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
