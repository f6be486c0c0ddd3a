"""``manage.py setup_schedules``: create or repair the django-q2 schedules of the OMS.

Idempotent by schedule name: a missing schedule is created, one that drifted (function,
type, interval) is put back, and its next run is kept. ``make run`` calls it before
starting the cluster; migration ``orders.0004`` creates the same rows on every database.
"""

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

from inventory.models import DemandForecast
from inventory.tasks import refresh_forecasts

NIGHTLY_AT = time(2, 30)


def _tonight() -> datetime:
    now = timezone.localtime()
    run = timezone.make_aware(datetime.combine(now.date(), NIGHTLY_AT))
    return run if run > now else run + timedelta(days=1)


# name, function, schedule type, minutes, first run
SCHEDULES = [
    (
        "Nightly demand forecast",
        "inventory.tasks.refresh_forecasts",
        Schedule.DAILY,
        None,
        _tonight,
    ),
    ("Delay detection", "orders.tasks.detect_delays", Schedule.MINUTES, 15, timezone.now),
    ("Low-stock check", "inventory.tasks.check_low_stock", Schedule.HOURLY, None, timezone.now),
]


def setup_schedules() -> dict[str, str]:
    """Create or repair each schedule; returns ``{name: "created"|"updated"|"ok"}``."""
    outcome = {}
    for name, func, kind, minutes, first_run in SCHEDULES:
        rows = list(Schedule.objects.filter(name=name).order_by("pk"))
        for duplicate in rows[1:]:
            duplicate.delete()
        if not rows:
            Schedule.objects.create(
                name=name,
                func=func,
                schedule_type=kind,
                minutes=minutes,
                repeats=-1,
                next_run=first_run(),
            )
            outcome[name] = "created"
            continue
        schedule = rows[0]
        wanted = {"func": func, "schedule_type": kind, "minutes": minutes, "repeats": -1}
        if any(getattr(schedule, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(schedule, key, value)
            schedule.save(update_fields=list(wanted))
            outcome[name] = "updated"
        else:
            outcome[name] = "ok"
    return outcome


class Command(BaseCommand):
    help = "Create or repair the django-q2 schedules (forecast, delay detection, low stock)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-initial-forecast",
            action="store_true",
            help="do not compute the forecasts now when none is stored yet",
        )

    def handle(self, *args, **options):
        for name, what in setup_schedules().items():
            self.stdout.write(f"{name}: {what}")
        # The nightly job first runs tonight: on a fresh database (the demo) compute the
        # forecasts and the low-stock alerts now, so the pages have something to show.
        if not options["no_initial_forecast"] and not DemandForecast.objects.exists():
            result = refresh_forecasts()
            self.stdout.write(
                f"Initial forecast: {result['series']} series, "
                f"{result['low_stock_open']} low-stock alert(s) open"
            )
