"""The django-q2 schedules: one list (``kernel.schedules``) that the migrations create on
every database and ``manage.py setup_schedules`` repairs."""

import io
from importlib import import_module

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from kernel.schedules import SCHEDULES

pytestmark = pytest.mark.django_db

NAMES = {spec.name for spec in SCHEDULES}


def _run() -> str:
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_migrations_create_every_listed_schedule():
    # The test database was built by the migrations alone.
    stored = {s.name: s for s in Schedule.objects.filter(name__in=NAMES)}
    assert set(stored) == NAMES
    for spec in SCHEDULES:
        row = stored[spec.name]
        assert (row.func, row.schedule_type, row.minutes, row.repeats) == (
            spec.func,
            spec.schedule_type,
            spec.minutes,
            -1,
        )


def test_every_schedule_names_a_function_that_exists():
    for spec in SCHEDULES:
        module, _, name = spec.func.rpartition(".")
        assert callable(getattr(import_module(module), name)), spec.func


def test_setup_schedules_is_idempotent_and_repairs_drift():
    Schedule.objects.filter(name__in=NAMES).delete()
    assert _run().count("created") == len(SCHEDULES) == 7
    assert _run().count(": ok") == 7
    delay = Schedule.objects.get(name="Delay detection")
    assert (delay.func, delay.schedule_type, delay.minutes) == (
        "orders.tasks.detect_delays",
        Schedule.MINUTES,
        15,
    )
    delay.minutes = 60
    delay.save()
    sweep = Schedule.objects.get(name="Sweep outgoing webhooks")
    sweep.func = "oms.tasks.nothing"
    sweep.save()
    Schedule.objects.create(name="Low-stock check", func="x.y")  # a duplicate
    output = _run()
    assert "Delay detection: updated" in output
    assert "Sweep outgoing webhooks: updated" in output
    assert Schedule.objects.get(name="Delay detection").minutes == 15
    assert Schedule.objects.get(name="Sweep outgoing webhooks").func == "oms.tasks.webhooks_sweep"
    assert Schedule.objects.filter(name="Low-stock check").count() == 1
    nightly = Schedule.objects.get(name="Nightly demand forecast")
    assert nightly.schedule_type == Schedule.DAILY and nightly.func.endswith("refresh_forecasts")
    assert nightly.next_run.hour == 2 and nightly.next_run.minute == 30


def test_the_jobs_run(db):
    from inventory.tasks import check_low_stock, refresh_forecasts
    from orders.tasks import detect_delays

    assert refresh_forecasts()["series"] == 0
    assert check_low_stock() == {"opened": 0, "resolved": 0, "open": 0}
    assert detect_delays()["at_risk_total"] == 0
