"""Data migration: the django-q2 schedules of Step 7, on every database.

Nightly demand forecast (02:30 UTC), delay detection every 15 minutes, low-stock check
hourly. Idempotent by name; ``manage.py setup_schedules`` creates or repairs the same
rows.
"""

from datetime import datetime, time, timedelta, timezone

from django.db import migrations

SCHEDULES = [
    # name, function, schedule type (D daily, I every `minutes`, H hourly), minutes
    ("Nightly demand forecast", "inventory.tasks.refresh_forecasts", "D", None),
    ("Delay detection", "orders.tasks.detect_delays", "I", 15),
    ("Low-stock check", "inventory.tasks.check_low_stock", "H", None),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = datetime.now(timezone.utc)
    nightly = datetime.combine(now.date(), time(2, 30), tzinfo=timezone.utc)
    if nightly <= now:
        nightly += timedelta(days=1)
    for name, func, kind, minutes in SCHEDULES:
        if not Schedule.objects.filter(name=name).exists():
            Schedule.objects.create(
                name=name,
                func=func,
                schedule_type=kind,
                minutes=minutes,
                repeats=-1,
                next_run=nightly if kind == "D" else now,
            )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_delay_flags_and_auto_confirm_rules"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
