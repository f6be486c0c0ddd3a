"""The django-q2 schedules: created on every database by migration, repaired by
``manage.py setup_schedules``."""

import io

import pytest
from django.core.management import call_command
from django_q.models import Schedule

pytestmark = pytest.mark.django_db

NAMES = {"Nightly demand forecast", "Delay detection", "Low-stock check"}


def _run() -> str:
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_setup_schedules_is_idempotent_and_repairs_drift():
    Schedule.objects.filter(name__in=NAMES).delete()
    assert _run().count("created") == 3  # and an initial forecast (nothing to forecast)
    assert _run().count(": ok") == 3
    delay = Schedule.objects.get(name="Delay detection")
    assert (delay.func, delay.schedule_type, delay.minutes) == (
        "orders.tasks.detect_delays",
        Schedule.MINUTES,
        15,
    )
    delay.minutes = 60
    delay.save()
    Schedule.objects.create(name="Low-stock check", func="x.y")  # a duplicate
    output = _run()
    assert "Delay detection: updated" in output
    assert Schedule.objects.get(name="Delay detection").minutes == 15
    assert Schedule.objects.filter(name="Low-stock check").count() == 1
    nightly = Schedule.objects.get(name="Nightly demand forecast")
    assert nightly.schedule_type == Schedule.DAILY and nightly.func.endswith("refresh_forecasts")


def test_the_jobs_run(db):
    from inventory.tasks import check_low_stock, refresh_forecasts
    from orders.tasks import detect_delays

    assert refresh_forecasts()["series"] == 0
    assert check_low_stock() == {"opened": 0, "resolved": 0, "open": 0}
    assert detect_delays()["at_risk_total"] == 0
