"""Data migration: the django-q2 schedule that sweeps outgoing webhooks (re-queues
attempts whose task was lost, closes attempts a dead worker left 'sending'), and the
manager group's permissions on the new webhook and intake models. Idempotent."""

from django.db import migrations

SCHEDULE_NAME = "Sweep outgoing webhooks"


def forwards(apps, schema_editor):
    from oms.roles import sync_groups

    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(name=SCHEDULE_NAME).exists():
        Schedule.objects.create(
            name=SCHEDULE_NAME,
            func="oms.tasks.webhooks_sweep",
            schedule_type="I",  # every `minutes`
            minutes=5,
            repeats=-1,
        )
    sync_groups(apps)


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0006_webhooks_and_channel_intake"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
