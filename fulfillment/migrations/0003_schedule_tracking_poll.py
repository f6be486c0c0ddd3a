"""Data migration: the django-q2 schedule that polls carriers for tracking events
(``fulfillment.tasks.poll_tracking``, as listed in ``kernel.schedules``). Idempotent."""

from django.db import migrations

NAMES = ("Poll carrier tracking",)


def create_schedule(apps, schema_editor):
    from kernel.schedules import ensure_schedules

    ensure_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


def remove_schedule(apps, schema_editor):
    from kernel.schedules import remove_schedules

    remove_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0002_shipment_package_label_tracking_events"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
