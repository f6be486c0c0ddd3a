"""``manage.py setup_schedules``: create or repair the django-q2 schedules of the OMS.

Idempotent by schedule name: a missing schedule is created, one that drifted (function,
type, interval) is put back, and its next run is kept. The list is ``kernel.schedules``,
which the data migrations read too; ``make run`` calls this before starting the cluster.
"""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from inventory.models import DemandForecast
from inventory.tasks import refresh_forecasts
from kernel.schedules import ensure_schedules


def setup_schedules() -> dict[str, str]:
    """Create or repair each schedule of ``kernel.schedules.SCHEDULES``."""
    return ensure_schedules(Schedule)


class Command(BaseCommand):
    help = "Create or repair the django-q2 schedules listed in kernel.schedules."

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
