"""Shipping: package details, rate shopping, booking with a carrier.

The delivery promise (what rate shopping must meet): the order hands over to the carrier
by ``Order.ship_by`` (placed + the channel's handling days) and then arrives within
  - ``settings.OMS_DELIVERY_PROMISE_DAYS[channel code]`` business days, for channels
    that promise a fixed window, else
  - the transit time of the cheapest service to the destination: what a checkout
    quoting "standard shipping" promised.
So a parcel packed on time goes with the cheapest service; a late one with the cheapest
that still arrives by the promised date, and when none can, with the fastest.
Business days skip Saturdays and Sundays. The parcel is taken to leave today (the next
business day at a weekend).

Carriers are called outside any transaction (they are network calls); the rows change
afterwards, under the usual locks (order, then shipment), through ``shipment_ship`` and
``shipment_deliver``. Booking a label, voiding it and boxes are in
``fulfillment.services.booking``; tracking events in ``fulfillment.services.tracking``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import CarrierError, Rate
from fulfillment.exceptions import FulfillmentError
from fulfillment.models import OPEN_SHIPMENT_STATUSES, Carrier, Shipment
from fulfillment.services.shipments import (
    _lock,
)
from kernel.exceptions import InvalidTransition
from kernel.money import convert, quantize_money
from orders import services as order_services

log = logging.getLogger(__name__)
Status = Shipment.Status
MAX_DIMENSION_CM = Decimal("1000")


class NoRate(FulfillmentError):
    """No carrier offers a service for this parcel (or not the one asked for)."""

    code = "no_rate"
    status_code = 409


# --------------------------------------------------------------------------- dates


def add_business_days(start: date, days: int) -> date:
    current = start
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def next_business_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _local_date(value: datetime) -> date:
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


# --------------------------------------------------------------------------- package


@transaction.atomic
def shipment_record_package(
    *,
    shipment: Shipment,
    weight_grams: int | None = None,
    length_cm=None,
    width_cm=None,
    height_cm=None,
    actor=None,
) -> Shipment:
    """Record the weighed and measured package (given values only) of a shipment not
    yet shipped. Locks: the order, then the shipment."""
    _lock(shipment)
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment",
            number=shipment.number,
            current=shipment.status,
            move="record the package",
        )
    fields = []
    if weight_grams is not None:
        if isinstance(weight_grams, bool) or not 0 < int(weight_grams) <= 1_000_000:
            raise FulfillmentError(
                "weight_grams must be between 1 and 1,000,000", field="weight_grams"
            )
        shipment.weight_grams = int(weight_grams)
        fields.append("weight_grams")
    for name, value in (("length_cm", length_cm), ("width_cm", width_cm), ("height_cm", height_cm)):
        if value is None:
            continue
        try:
            cm = Decimal(str(value)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            raise FulfillmentError(f"{name} must be a number", field=name) from None
        if not cm.is_finite() or not 0 < cm <= MAX_DIMENSION_CM:
            raise FulfillmentError(f"{name} must be between 0.1 and 1000 cm", field=name)
        setattr(shipment, name, cm)
        fields.append(name)
    if fields:
        shipment.save(update_fields=fields)
    return shipment


# --------------------------------------------------------------------------- rate shopping


@dataclass
class Shopping:
    """The outcome of rate shopping: the chosen rate, every quote considered, the
    carriers that could not answer, the promise and why the choice."""

    rate: Rate
    quotes: list[Rate]
    errors: dict[str, str] = field(default_factory=dict)
    ship_date: date | None = None
    promised: date | None = None
    promise_basis: str = ""
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "chosen": self.rate.code,
            "reason": self.reason,
            "ship_date": self.ship_date.isoformat() if self.ship_date else None,
            "promised_delivery": self.promised.isoformat() if self.promised else None,
            "promise_basis": self.promise_basis,
            "quotes": [q.as_dict() for q in self.quotes],
            "carrier_errors": self.errors,
        }


def _quotes(shipment: Shipment) -> tuple[list[Rate], dict[str, str], date]:
    """Every active carrier's quotes, with estimated delivery; a carrier that fails is
    left out (and named in the errors) rather than failing the others."""
    ship_date = next_business_day(timezone.localdate())
    quotes: list[Rate] = []
    errors: dict[str, str] = {}
    for carrier in Carrier.objects.filter(active=True).order_by("code"):
        try:
            rates = adapter_for(carrier).quote(shipment)
        except CarrierError as exc:
            log.warning("rate quote from %s for %s failed: %s", carrier.code, shipment.number, exc)
            errors[carrier.code] = exc.message
            continue
        quotes.extend(
            replace(r, estimated_delivery=add_business_days(ship_date, r.transit_days))
            for r in rates
        )
    currency = shipment.order.currency

    def cheapest_first(rate: Rate):
        price = _compare_price(rate, currency)  # those not comparable last
        return (price is None, rate.price if price is None else price, rate.transit_days, rate.code)

    quotes.sort(key=cheapest_first)
    return quotes, errors, ship_date


def _compare_price(rate: Rate, currency: str):
    """The quote's price in the order's currency (``OMS_EXCHANGE_RATES`` converts), or
    None when it cannot be said: such a quote is never compared with the others."""
    return convert(rate.price, rate.currency, currency)


def _comparable(quotes: Sequence[Rate], currency: str) -> tuple[list[Rate], str]:
    """The quotes whose prices can be compared in ``currency``, and a note naming the
    ones left out (no exchange rate to the order's currency)."""
    kept = [q for q in quotes if _compare_price(q, currency) is not None]
    left_out = sorted({q.currency for q in quotes} - {q.currency for q in kept})
    note = (
        f"quotes in {', '.join(left_out)} left out: no exchange rate to {currency} in "
        "OMS_EXCHANGE_RATES (prices in different currencies are not compared)"
        if left_out
        else ""
    )
    return kept, note


def promised_delivery(shipment: Shipment, quotes: Sequence[Rate]) -> tuple[date | None, str]:
    """The date the order promised to arrive by, and how it was worked out."""
    order = shipment.order
    channel = order.channel
    ship_by = order.ship_by or order_services.add_business_days(
        order.placed_at, channel.handling_days
    )
    hand_over = _local_date(ship_by)
    fixed = settings.OMS_DELIVERY_PROMISE_DAYS.get(channel.code)
    if fixed is not None:
        return (
            add_business_days(hand_over, fixed),
            f"ship by {hand_over} + {fixed} business day(s) promised by {channel.code}",
        )
    quotes, _ = _comparable(quotes, order.currency)
    if not quotes:
        return None, ""
    cur = order.currency
    standard = min(quotes, key=lambda r: (_compare_price(r, cur), r.transit_days, r.code))
    return (
        add_business_days(hand_over, standard.transit_days),
        f"ship by {hand_over} + {standard.transit_days} business day(s), the standard "
        f"transit to {order.ship_region or order.ship_country} ({standard.code})",
    )


def _shop(shipment: Shipment, service_code: str | None) -> Shopping:
    quotes, errors, ship_date = _quotes(shipment)
    where = ", ".join(p for p in (shipment.order.ship_region, shipment.order.ship_country) if p)
    if not quotes:
        why = "; ".join(f"{c}: {m}" for c, m in errors.items())
        raise NoRate(
            f"No rate for {shipment.number}: no active carrier service ships a "
            f"{_weight(shipment)} parcel to {where or 'this address'}"
            + (f" ({why})" if why else ""),
            field="service",
        )
    promised, basis = promised_delivery(shipment, quotes)
    currency = shipment.order.currency
    if service_code:
        rate = _pick(shipment, quotes, service_code.strip())
        reason = f"{rate.code} chosen by staff"
    else:
        comparable, note = _comparable(quotes, currency)
        if not comparable:
            raise NoRate(
                f"No rate for {shipment.number} can be compared in {currency}: {note}; "
                "choose the service",
                field="service",
            )

        def price(r):
            return _compare_price(r, currency)

        meeting = [q for q in comparable if promised and q.estimated_delivery <= promised]
        if meeting:
            rate = min(meeting, key=lambda r: (price(r), r.transit_days, r.code))
            reason = f"{rate.code} is the cheapest that arrives by {promised}"
        else:
            rate = min(comparable, key=lambda r: (r.transit_days, price(r), r.code))
            reason = f"no service arrives by {promised}; {rate.code} is the fastest"
        if rate.currency != currency:
            reason += (
                f" ({rate.price} {rate.currency} is "
                f"{quantize_money(price(rate), currency)} {currency} by OMS_EXCHANGE_RATES)"
            )
        if note:
            reason += f"; {note}"
    return Shopping(
        rate=rate,
        quotes=quotes,
        errors=errors,
        ship_date=ship_date,
        promised=promised,
        promise_basis=basis,
        reason=reason,
    )


def _pick(shipment: Shipment, quotes: Sequence[Rate], code: str) -> Rate:
    """The quote for ``carrier/service``, or for a bare service code when only one
    carrier offers it."""
    if "/" in code:
        found = [q for q in quotes if q.code == code]
    else:
        found = [q for q in quotes if q.service == code]
    if len(found) == 1:
        return found[0]
    offered = ", ".join(q.code for q in quotes)
    if len(found) > 1:
        raise NoRate(
            f"Service {code!r} is offered by several carriers; say which: "
            + ", ".join(q.code for q in found),
            field="service",
        )
    raise NoRate(
        f"No rate for {shipment.number} with {code!r}; offered: {offered}", field="service"
    )


def _weight(shipment: Shipment) -> str:
    from fulfillment.carriers.base import shipment_weight_grams

    return f"{shipment_weight_grams(shipment)} g"


def shipment_rate_shopping(*, shipment: Shipment, service_code: str | None = None) -> Shopping:
    """Rate shopping without booking: every quote, the promise, and the choice (the
    cheapest meeting the promise, else the fastest; or ``service_code``). A shipment
    not yet shipped only; ``NoRate`` when nothing serves it."""
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="quote rates"
        )
    return _shop(shipment, service_code)


def shipment_rate_quotes(*, shipment: Shipment) -> list[Rate]:
    """Every service the active carriers offer for this parcel, cheapest first, each with
    its estimated delivery (leaving today). Carriers that fail are left out."""
    quotes, _, _ = _quotes(shipment)
    return quotes


def shipment_choose_rate(*, shipment: Shipment, service_code: str | None = None) -> Rate:
    """Rate shopping: the cheapest service that arrives by the promised date, else the
    fastest; or the service staff asked for (``carrier/service``, or a service code that
    only one carrier has). Raises ``NoRate`` (the shipment is left as it is)."""
    return _shop(shipment, service_code).rate
