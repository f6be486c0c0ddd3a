"""Data migration: the django-q2 schedules of Step 7 (nightly demand forecast, delay
detection, low-stock check), as listed in ``kernel.schedules``. Idempotent by name."""

from django.db import migrations

NAMES = ("Nightly demand forecast", "Delay detection", "Low-stock check")


def create_schedules(apps, schema_editor):
    from kernel.schedules import ensure_schedules

    ensure_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


def remove_schedules(apps, schema_editor):
    from kernel.schedules import remove_schedules

    remove_schedules(apps.get_model("django_q", "Schedule"), names=NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_delay_flags_and_auto_confirm_rules"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
