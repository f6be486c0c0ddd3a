"""Data migration: the django-q2 schedules of the channel sync. Every minute
``intake.tasks.channel_sync_sweep`` pushes the stock and sends the outbox messages
whose backoff is over (the pushes after each change are queued at commit); every 15
minutes ``intake.tasks.reconcile_channel_orders`` polls the channels for orders whose
webhook was lost. And the manager group's permissions on the channel sync models
(after every app whose models the groups cover). Idempotent."""

from django.db import migrations

SCHEDULES = [
    ("Channel sync sweep", "intake.tasks.channel_sync_sweep", 1),
    ("Reconcile channel orders", "intake.tasks.reconcile_channel_orders", 15),
]


def create_schedules(apps, schema_editor):
    from oms.roles import sync_groups

    sync_groups(apps)  # the manager group's permissions on the channel sync models
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        if not Schedule.objects.filter(name=name).exists():
            Schedule.objects.create(
                name=name, func=func, schedule_type="I", minutes=minutes, repeats=-1
            )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("oms", "0007_webhooks_sweep_schedule"),
        ("fulfillment", "0003_schedule_tracking_poll"),
        ("returns", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
