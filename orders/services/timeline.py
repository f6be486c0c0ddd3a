"""The order timeline (events), the order row lock and the status move every transition makes."""

import functools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from kernel.actors import actor_name
from kernel.db import insert_new, primed, save_fields
from kernel.exceptions import InvalidTransition
from kernel.money import MAX_MONEY, MoneyPlacesError, money_exact
from orders.exceptions import OrderInvalid
from orders.models import ORDER_TRANSITIONS, Order, OrderEvent

MAX_LINE_QUANTITY = 10_000
MAX_LINES = 500
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postcode", "country", "phone")
Status = Order.Status
EventKind = OrderEvent.Kind


# --------------------------------------------------------------------------- helpers


def order_add_event(
    *,
    order: Order,
    kind: str,
    message: str = "",
    data: dict | None = None,
    actor=None,
    public: bool = False,
) -> OrderEvent:
    event = OrderEvent(
        order=order,
        kind=kind,
        message=message,
        data=data or {},
        actor=actor_name(actor),
        public=public,
    )
    return order_add_events(order=order, events=[event])[0]


def order_add_events(*, order: Order, events: Sequence[OrderEvent]) -> list[OrderEvent]:
    """Save several events of ``order`` in one INSERT (and keep a timeline kept in
    memory by ``order_place`` complete)."""
    events = insert_new(list(events))
    timeline = primed(order, "events")
    if timeline is not None:
        timeline.extend(events)
    return events


def order_lock(order: Order) -> Order:
    """Lock the order row and refresh ``order`` in place with the committed values.

    A service that takes ``locked=True`` skips this: its caller holds the order's row
    (and its lines) already, because it locked them or inserted them in this very
    transaction; that is all ``locked`` ever means."""
    fresh = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        setattr(order, field.attname, getattr(fresh, field.attname))
    return order


def _transition(order: Order, new_status: str, move: str, *, extra_fields=()) -> None:
    if new_status not in ORDER_TRANSITIONS[order.status]:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move=move
        )
    order.status = new_status
    save_fields(order, ["status", "updated_at", *extra_fields])


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` weekdays (Saturdays and Sundays skipped)."""
    return start + timedelta(days=_calendar_days(start.weekday(), days))


@functools.cache
def _calendar_days(weekday: int, days: int) -> int:
    """Calendar days from a day of week ``weekday`` to ``days`` weekdays later (computed
    once per pair: every placement and every imported order asks)."""
    calendar = added = 0
    while added < days:
        calendar += 1
        if (weekday + calendar) % 7 < 5:
            added += 1
    return calendar


def _money(value, field: str, currency: str | None = None) -> Decimal:
    """A non-negative amount of ``currency``, with no more decimals than it has (more is
    refused, never rounded away)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise OrderInvalid(f"{field} must be a decimal number", field=field) from None
    if not amount.is_finite():
        raise OrderInvalid(f"{field} must be a decimal number", field=field)
    if amount < 0:
        raise OrderInvalid(f"{field} must not be negative", field=field)
    if amount > MAX_MONEY:
        raise OrderInvalid(f"{field} is too large", field=field)
    try:
        return money_exact(amount, currency)
    except MoneyPlacesError as exc:
        raise OrderInvalid(f"{field}: {exc}", field=field) from None
