"""Data migration: the django-q2 schedule that polls carriers for tracking events.

Every 30 minutes ``fulfillment.tasks.poll_tracking`` asks each carrier adapter that
supports ``track`` about the shipments still on their way. Idempotent by name.
"""

from django.db import migrations

SCHEDULE_NAME = "Poll carrier tracking"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(name=SCHEDULE_NAME).exists():
        Schedule.objects.create(
            name=SCHEDULE_NAME,
            func="fulfillment.tasks.poll_tracking",
            schedule_type="I",  # every `minutes`
            minutes=30,
            repeats=-1,
        )


def remove_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0002_shipment_package_label_tracking_events"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
