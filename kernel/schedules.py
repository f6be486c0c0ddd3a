"""The django-q2 schedules of the OMS: the one list that migrations and
``manage.py setup_schedules`` read.

``ensure_schedules(Schedule)`` creates a missing schedule, puts back one that drifted
(function, type, interval) while keeping its next run, and drops duplicates of a name.
It takes the ``Schedule`` model as an argument so that data migrations can pass their
historical model (``apps.get_model("django_q", "Schedule")``) and the command the real
one. Functions are dotted paths, so this module imports none of the apps.

To add a schedule: add it here, and a data migration that calls ``ensure_schedules``
(existing databases get it on ``migrate``; ``setup_schedules`` also repairs it).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

NIGHTLY_AT = time(2, 30)  # UTC


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str  # django-q2's codes: "I" every `minutes`, "H" hourly, "D" daily
    minutes: int | None = None
    nightly: bool = False  # first run tonight at NIGHTLY_AT, not now


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("Nightly demand forecast", "inventory.tasks.refresh_forecasts", "D", nightly=True),
    ScheduleSpec("Delay detection", "orders.tasks.detect_delays", "I", 15),
    ScheduleSpec("Low-stock check", "inventory.tasks.check_low_stock", "H"),
    ScheduleSpec("Poll carrier tracking", "fulfillment.tasks.poll_tracking", "I", 30),
    ScheduleSpec("Sweep outgoing webhooks", "oms.tasks.webhooks_sweep", "I", 5),
    # Channel sync: stock pushes and outbox messages whose backoff is over (the push
    # after each stock change is queued at commit), and the poll for lost orders.
    ScheduleSpec("Channel sync sweep", "intake.tasks.channel_sync_sweep", "I", 1),
    ScheduleSpec("Reconcile channel orders", "intake.tasks.reconcile_channel_orders", "I", 15),
)


def _first_run(spec: ScheduleSpec, now: datetime) -> datetime:
    if not spec.nightly:
        return now
    tonight = datetime.combine(now.astimezone(UTC).date(), NIGHTLY_AT, tzinfo=UTC)
    return tonight if tonight > now else tonight + timedelta(days=1)


def ensure_schedules(schedule_model, *, names=None) -> dict[str, str]:
    """Create or repair each schedule (only those in ``names`` when given); returns
    ``{name: "created" | "updated" | "ok"}``."""
    now = datetime.now(UTC)
    outcome = {}
    for spec in SCHEDULES:
        if names is not None and spec.name not in names:
            continue
        rows = list(schedule_model.objects.filter(name=spec.name).order_by("pk"))
        for duplicate in rows[1:]:
            duplicate.delete()
        wanted = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
            "repeats": -1,
        }
        if not rows:
            schedule_model.objects.create(name=spec.name, next_run=_first_run(spec, now), **wanted)
            outcome[spec.name] = "created"
            continue
        schedule = rows[0]
        if any(getattr(schedule, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(schedule, key, value)
            schedule.save(update_fields=list(wanted))
            outcome[spec.name] = "updated"
        else:
            outcome[spec.name] = "ok"
    return outcome


def remove_schedules(schedule_model, *, names) -> None:
    schedule_model.objects.filter(name__in=list(names)).delete()
