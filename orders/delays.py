"""Delay detection: which orders will miss their ship-by date, and which are late.

Run every 15 minutes by ``orders.tasks.detect_delays`` (and ``manage.py detect_delays``).

An order is at risk (``Order.at_risk``, with an ``at_risk`` event) only when the date it
is projected to ship passes its ship-by date. ``at_risk_reason`` holds the one short
reason (the most pressing); the event's message and data keep the full explanation.
The projections, most pressing first:

``passed``      not shipped and ship-by already passed (pending, held and confirmed
                orders alike: nothing ships before now).
``backordered`` confirmed with units waiting for stock that comes later than ship-by:
                on the day the purchase orders sent and transfers in transit bring
                it (handed out oldest order first), else in the products' lead time
                (business days).
``projection``  an open shipment's projected ship date is after the order's ship-by
                date. Each point works its queue of open shipments (of confirmed
                orders) in this order: packed, picked, picking, allocated, then by
                ship-by and age, at its capacity: ``Warehouse.daily_capacity`` when
                set, else the most shipments it shipped on one day over the last 14
                days (what it has shown it can do; an average would count the
                quiet days as lost capacity), or ``OMS_DEFAULT_SHIPMENTS_PER_DAY`` when
                it shipped nothing. The shipment
                at position k ships on business day ceil(k / capacity), today being day
                1 when it is a business day.

An order that no longer meets any of them (shipped, cancelled, or back on time) is
cleared; an open one gets a note saying so. Late (``Order.late``, with a ``late``
event): a shipment shipped and not delivered whose carrier's estimated delivery date
has passed; cleared when delivered.

``flag_at_risk`` and ``flag_late`` are the one place each flag is raised (the hook for
the ``order.at_risk`` webhook). Order rows are written with ``UPDATE``s of the flag
columns only, so a concurrent status change is never overwritten. Queries: a fixed
handful per run, plus one update and one event per newly flagged order.
"""

import math
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from kernel import webhooks
from orders.models import Order, OrderEvent, OrderLine
from orders.selectors import backorder_expected_dates
from orders.services import order_add_event

THROUGHPUT_DAYS = 14
QUEUE_RANK = {"packed": 0, "picked": 1, "picking": 2, "allocated": 3}
OPEN_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.CONFIRMED, Order.Status.ON_HOLD)
REASON_ORDER = {"passed": 0, "backordered": 1, "projection": 2}


def default_throughput() -> float:
    return float(getattr(settings, "OMS_DEFAULT_SHIPMENTS_PER_DAY", 10))


# --------------------------------------------------------------------------- selectors


def at_risk_filter(queryset: QuerySet[Order], value: bool = True) -> QuerySet[Order]:
    """Orders flagged at risk (``value`` False: not flagged); for list pages and the API."""
    return queryset.filter(at_risk=bool(value))


def late_filter(queryset: QuerySet[Order], value: bool = True) -> QuerySet[Order]:
    return queryset.filter(late=bool(value))


# --------------------------------------------------------------------------- calendar


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def business_days_between(first: date, last: date) -> int:
    """Business days in [first, last] (inclusive)."""
    return sum(
        1 for i in range((last - first).days + 1) if is_business_day(first + timedelta(days=i))
    )


def nth_business_day(today: date, n: int) -> date:
    """The n-th business day counting today as the first when it is one (n >= 1)."""
    day = today
    while not is_business_day(day):
        day += timedelta(days=1)
    weeks, rest = divmod(max(n, 1) - 1, 5)
    day += timedelta(weeks=weeks)  # five business days a week, whatever the weekday
    while rest:
        day += timedelta(days=1)
        if is_business_day(day):
            rest -= 1
    return day


# --------------------------------------------------------------------------- projection


def throughput(*, now: datetime) -> dict[int, float]:
    """Each point's capacity in shipments per business day: its ``daily_capacity`` when
    set, else the most it shipped on one day over the last 14 days. Two queries."""
    Shipment = apps.get_model("fulfillment", "Shipment")
    Warehouse = apps.get_model("inventory", "Warehouse")
    configured = dict(
        Warehouse.objects.filter(daily_capacity__gt=0).values_list("id", "daily_capacity")
    )
    since = now - timedelta(days=THROUGHPUT_DAYS)
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    rows = (
        Shipment.objects.filter(shipped_at__gte=since, shipped_at__lt=now)
        .values_list("warehouse_id", "shipped_at")
        .order_by()
    )
    for warehouse_id, shipped_at in rows:
        per_day[(warehouse_id, timezone.localdate(shipped_at))] += 1
    best: dict[int, float] = {}
    for (warehouse_id, _), n in per_day.items():
        best[warehouse_id] = max(best.get(warehouse_id, 0.0), float(n))
    best.update({pk: float(n) for pk, n in configured.items()})
    return best


def project_shipments(*, now: datetime) -> list[dict]:
    """Projected ship date of every open shipment of a confirmed order. Two queries."""
    Shipment = apps.get_model("fulfillment", "Shipment")
    rates = throughput(now=now)
    today = timezone.localdate(now)
    rows = list(
        Shipment.objects.filter(
            status__in=list(QUEUE_RANK), order__status=Order.Status.CONFIRMED
        ).values(
            "id",
            "number",
            "status",
            "created_at",
            "order_id",
            "order__ship_by",
            "warehouse_id",
            "warehouse__code",
        )
    )
    queues: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        queues[row["warehouse_id"]].append(row)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    projected = []
    for warehouse_id, queue in queues.items():
        queue.sort(
            key=lambda r: (
                QUEUE_RANK[r["status"]],
                r["order__ship_by"] or far,
                r["created_at"],
                r["id"],
            )
        )
        rate = rates.get(warehouse_id, 0.0)
        assumed = rate <= 0
        if assumed:
            rate = default_throughput()
        for position, row in enumerate(queue, start=1):
            day = nth_business_day(today, max(math.ceil(position / rate - 1e-9), 1))
            projected.append(
                {
                    **row,
                    "position": position,
                    "queue": len(queue),
                    "rate": round(rate, 2),
                    "rate_assumed": assumed,
                    "projected": day,
                }
            )
    return projected


def _fmt_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _fmt_moment(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def at_risk_candidates(*, now: datetime) -> dict[int, dict]:
    """``{order_id: {"codes": [...], "short": [...], "reasons": [...], "projected":
    date|None, "data": {...}}}`` for every open order projected to ship after its
    ship-by date (the module docstring's rules). Four queries."""
    candidates: dict[int, dict] = {}
    today = timezone.localdate(now)

    def add(order_id: int, code: str, short: str, reason: str, day: date | None, **data):
        entry = candidates.setdefault(
            order_id, {"codes": [], "short": [], "reasons": [], "projected": None, "data": {}}
        )
        entry["codes"].append(code)
        entry["short"].append(short)
        entry["reasons"].append(reason)
        if day and (entry["projected"] is None or day > entry["projected"]):
            entry["projected"] = day
        if data:
            entry["data"][code] = data

    worst: dict[int, dict] = {}
    for row in project_shipments(now=now):
        ship_by = row["order__ship_by"]
        if ship_by is None or row["projected"] <= timezone.localdate(ship_by):
            continue
        current = worst.get(row["order_id"])
        if current is None or row["projected"] > current["projected"]:
            worst[row["order_id"]] = row
    for order_id, row in worst.items():
        assumed = " (assumed: none shipped in 14 days)" if row["rate_assumed"] else ""
        ship_by = _fmt_day(timezone.localdate(row["order__ship_by"]))
        add(
            order_id,
            "projection",
            f"projected to ship {_fmt_day(row['projected'])}, after ship-by {ship_by}",
            f"{row['number']} projected to ship {_fmt_day(row['projected'])}, after ship-by "
            f"{ship_by}: position {row['position']} of {row['queue']} at "
            f"{row['warehouse__code']}, {row['rate']:g} shipments/business day{assumed}",
            row["projected"],
            shipment=row["number"],
            warehouse=row["warehouse__code"],
            position=row["position"],
            queue=row["queue"],
            rate=row["rate"],
            projected=row["projected"].isoformat(),
        )

    passed = (
        Order.objects.filter(status__in=OPEN_ORDER_STATUSES, ship_by__isnull=False, ship_by__lt=now)
        .exclude(fulfillment_status=Order.FulfillmentStatus.FULFILLED)
        .values_list("id", "ship_by", "status")
    )
    for order_id, ship_by, status in passed:
        ago = _hours(now - ship_by)
        add(
            order_id,
            "passed",
            f"ship-by {_fmt_moment(ship_by)} passed, not shipped",
            f"not shipped ({status}) and ship-by {_fmt_moment(ship_by)} passed {ago} ago",
            today,
            hours_late=_h(now - ship_by),
        )

    backordered = (
        OrderLine.objects.filter(
            order__status=Order.Status.CONFIRMED,
            quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled"),
        )
        .annotate(
            units=F("quantity")
            - F("quantity_allocated")
            - F("quantity_shipped")
            - F("quantity_cancelled")
        )
        .values_list("order_id", "order__ship_by", "sku", "units", "product__lead_time_days", "id")
        .order_by("order_id", "id")
    )
    waiting: dict[int, dict] = {}
    expected = backorder_expected_dates() if backordered else {}
    for order_id, ship_by, sku, units, lead_time, line_id in backordered:
        entry = waiting.setdefault(
            order_id, {"ship_by": ship_by, "items": [], "lead": 0, "due": []}
        )
        entry["items"].append(f"{sku} x{units}")
        entry["lead"] = max(entry["lead"], lead_time or 0)
        entry["due"].append(expected.get(line_id))
    for order_id, entry in waiting.items():
        due = max(entry["due"]) if all(entry["due"]) else None  # all lines have a date
        restocked = due or nth_business_day(today, entry["lead"] + 1)
        if entry["ship_by"] is not None and restocked <= timezone.localdate(entry["ship_by"]):
            continue
        items = ", ".join(entry["items"])
        add(
            order_id,
            "backordered",
            f"backordered: {items}",
            f"backordered, no stock to ship {items}; restock expected "
            f"{_fmt_day(restocked)} "
            + (
                "(purchase orders and transfers due)"
                if due
                else f"(lead time {entry['lead']} business days)"
            ),
            restocked,
            lead_time_days=entry["lead"],
            **({"expected": due.isoformat()} if due else {}),
        )
    for entry in candidates.values():  # the most pressing reason first
        order = sorted(range(len(entry["codes"])), key=lambda i: REASON_ORDER[entry["codes"][i]])
        for key in ("codes", "short", "reasons"):
            entry[key] = [entry[key][i] for i in order]
    return candidates


def _h(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f}h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


# --------------------------------------------------------------------------- writes


@transaction.atomic
def flag_at_risk(
    *,
    order: Order,
    reason: str,
    explanation: str = "",
    data: dict | None = None,
    projected_ship_date: date | None = None,
    now: datetime | None = None,
) -> bool:
    """Flag ``order`` at risk with the short ``reason`` and write its ``at_risk`` event
    with the full ``explanation``; True when newly flagged. An order already flagged only
    gets its reason and projection updated (no new event)."""
    now = now or timezone.now()
    reason = reason[:255]
    if order.at_risk:
        if (order.at_risk_reason, order.projected_ship_date) != (reason, projected_ship_date):
            Order.objects.filter(pk=order.pk).update(
                at_risk_reason=reason, projected_ship_date=projected_ship_date
            )
            order.at_risk_reason, order.projected_ship_date = reason, projected_ship_date
        return False
    updated = Order.objects.filter(pk=order.pk, at_risk=False).update(
        at_risk=True,
        at_risk_reason=reason,
        at_risk_since=now,
        projected_ship_date=projected_ship_date,
    )
    if not updated:
        return False  # flagged meanwhile by another run
    order.at_risk, order.at_risk_reason, order.at_risk_since = True, reason, now
    order.projected_ship_date = projected_ship_date
    order_add_event(
        order=order,
        kind=OrderEvent.Kind.AT_RISK,
        message=f"At risk: {explanation or reason}",
        data={**(data or {}), "reason": reason},
        actor="delay-detection",
    )
    webhooks.publish_order("order.at_risk", order, at_risk_reason=reason)
    return True


@transaction.atomic
def flag_late(*, order: Order, reason: str, data: dict | None = None) -> bool:
    """Flag ``order`` late and write its ``late`` event; True when newly flagged."""
    updated = Order.objects.filter(pk=order.pk, late=False).update(late=True)
    if not updated:
        return False
    order.late = True
    order_add_event(
        order=order,
        kind=OrderEvent.Kind.LATE,
        message=f"Late: {reason}",
        data=data or {},
        actor="delay-detection",
    )
    return True


def late_candidates(*, today: date) -> dict[int, dict]:
    """Orders with a shipment shipped, not delivered, past its estimated delivery."""
    Shipment = apps.get_model("fulfillment", "Shipment")
    rows = (
        Shipment.objects.filter(
            status="shipped", estimated_delivery__isnull=False, estimated_delivery__lt=today
        )
        .exclude(order__status=Order.Status.CANCELLED)
        .values_list("order_id", "number", "carrier", "estimated_delivery")
        .order_by("order_id", "estimated_delivery", "id")
    )
    late: dict[int, dict] = {}
    for order_id, number, carrier, eta in rows:
        entry = late.setdefault(order_id, {"shipments": [], "reasons": []})
        entry["shipments"].append(number)
        days = (today - eta).days
        entry["reasons"].append(
            f"{number}{' (' + carrier + ')' if carrier else ''} was due {_fmt_day(eta)}, "
            f"{days} day{'s' if days != 1 else ''} ago, and is not delivered"
        )
    return late


def detect_delays(*, now: datetime | None = None) -> dict:
    """Raise and clear the at-risk and late flags of every order (the 15-minute job).
    Returns the order numbers newly flagged and counts of what changed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = at_risk_candidates(now=now)
    flagged = {
        o.pk: o
        for o in Order.objects.filter(at_risk=True).only(
            "id", "status", "at_risk", "at_risk_reason", "projected_ship_date"
        )
    }
    wanted = (
        Order.objects.filter(pk__in=[pk for pk in candidates if pk not in flagged])
        .only("id", "number", "at_risk", "at_risk_reason", "projected_ship_date")
        .order_by("pk")
    )
    newly = []
    for order in wanted:
        entry = candidates[order.pk]
        if flag_at_risk(
            order=order,
            reason=entry["short"][0],
            explanation="; ".join(entry["reasons"]),
            data={"rules": entry["codes"], **entry["data"]},
            projected_ship_date=entry["projected"],
            now=now,
        ):
            newly.append(order.number)
    changed = []
    for pk, order in flagged.items():
        entry = candidates.get(pk)
        if entry is None:
            continue
        reason = entry["short"][0][:255]
        if (order.at_risk_reason, order.projected_ship_date) != (reason, entry["projected"]):
            order.at_risk_reason, order.projected_ship_date = reason, entry["projected"]
            changed.append(order)
    Order.objects.bulk_update(changed, ["at_risk_reason", "projected_ship_date"], batch_size=500)
    cleared = [o for pk, o in flagged.items() if pk not in candidates]
    if cleared:
        Order.objects.filter(pk__in=[o.pk for o in cleared], at_risk=True).update(
            at_risk=False, at_risk_reason="", at_risk_since=None, projected_ship_date=None
        )
        OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order=o,
                    kind=OrderEvent.Kind.NOTE,
                    message=f"No longer at risk (was: {o.at_risk_reason})"[:2000],
                    actor="delay-detection",
                )
                for o in cleared
                if o.status in OPEN_ORDER_STATUSES
            ]
        )

    late = late_candidates(today=today)
    late_now = set(Order.objects.filter(late=True).values_list("pk", flat=True))
    newly_late = []
    for order in Order.objects.filter(pk__in=[pk for pk in late if pk not in late_now]).only(
        "id", "number", "late"
    ):
        entry = late[order.pk]
        if flag_late(
            order=order, reason="; ".join(entry["reasons"]), data={"shipments": entry["shipments"]}
        ):
            newly_late.append(order.number)
    no_longer_late = (
        Order.objects.filter(late=True).exclude(pk__in=list(late)).update(late=False)
        if late_now - set(late)
        else 0
    )
    return {
        "at_risk": sorted(newly),
        "at_risk_updated": len(changed),
        "at_risk_cleared": len(cleared),
        "at_risk_total": len(candidates),
        "late": sorted(newly_late),
        "late_cleared": no_longer_late,
        "late_total": len(late),
    }
