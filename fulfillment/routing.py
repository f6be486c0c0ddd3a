"""Routing strategies: pure planning, no database writes.

A strategy receives the lines still to allocate, the candidate fulfillment points and
the quantities available there (plus, optionally, a ``RoutingContext``: where the order
goes, product weights, shipping rates), and returns a Plan: which point ships how much
of which line, plus the sentences that explain the choice (they become the order event).
``fulfillment.services.order_allocate`` turns a plan into reservations and shipments;
``fulfillment.services.route_preview`` shows every strategy's plan without reserving.

Every strategy allocates as many units as the points can supply (a line splits across
points when no single point has enough); they differ in which points they prefer:

- ``priority``: each line from the first point by warehouse priority that has all of it.
- ``single_shipment``: one point that can ship the whole order, else the smallest set of
  points that can (ties by priority, then distance).
- ``nearest``: each line from the closest point (great-circle distance when the address
  and the point can be located, else same region, then same country, then priority).
- ``cost``: the set of points whose shipments cost least by the rate tables; without
  matching rates it falls back to ``nearest`` and says so. Prices are compared and
  summed in one currency only, the order's: a rate in another currency is converted
  by ``OMS_EXCHANGE_RATES`` or left out, and the decision says which.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import combinations

from fulfillment import geo
from inventory.models import Warehouse
from kernel.money import convert, quantize_money
from orders.models import OrderLine

# Above this many candidate point sets, set searches fall back to a greedy cover.
MAX_SETS_EXAMINED = 5000
ALTERNATIVES_SHOWN = 2


@dataclass(frozen=True)
class Need:
    line: OrderLine
    quantity: int


@dataclass(frozen=True)
class Destination:
    """Where the order goes, located with the built-in table (``fulfillment.geo``)."""

    country: str = ""
    region: str = ""
    city: str = ""
    place: geo.Place | None = None

    @classmethod
    def of(cls, order) -> "Destination":
        country = (order.ship_country or "").strip().upper()
        region = geo.region_code(country, order.ship_region or "")
        return cls(country, region, (order.ship_city or "").strip(), geo.locate(country, region))

    @property
    def label(self) -> str:
        return ", ".join(p for p in (self.city, self.region, self.country) if p) or "no address"

    def as_dict(self) -> dict:
        return {
            "country": self.country,
            "region": self.region,
            "city": self.city,
            "coordinates": list(self.place.coordinates) if self.place else None,
            "located_by": self.place.label if self.place else None,
        }


@dataclass(frozen=True)
class Rate:
    """One row of a rate table, already filtered to the destination country."""

    service: str  # "carrier/service"
    region: str  # blank: the whole country
    min_weight_grams: int
    max_weight_grams: int
    price: Decimal
    currency: str
    transit_days: int
    original: str = ""  # "12.00 USD" when the price was converted


@dataclass
class RoutingContext:
    destination: Destination | None = None
    weights: dict[int, int] = field(default_factory=dict)  # product_id -> grams per unit
    rates: Sequence[Rate] | None = None
    currency: str = ""  # the order's: prices are compared in it


def rates_in_currency(rates: Sequence[Rate], currency: str) -> tuple[list[Rate], set[str]]:
    """The rates priced in ``currency`` (converted by ``OMS_EXCHANGE_RATES``), and the
    currencies that could not be converted (their rates are left out: prices in two
    currencies are never compared or summed). Without a currency, the rates' own one
    when they share it."""
    if not currency:
        currencies = {r.currency for r in rates}
        if len(currencies) <= 1:
            return list(rates), set()
        currency = min(currencies)
    kept, refused = [], set()
    for rate in rates:
        if rate.currency == currency:
            kept.append(rate)
            continue
        price = convert(rate.price, rate.currency, currency)
        if price is None:
            refused.add(rate.currency)
            continue
        kept.append(
            replace(
                rate,
                price=quantize_money(price, currency),
                currency=currency,
                original=f"{rate.price} {rate.currency}",
            )
        )
    return kept, refused


def _refused_note(refused: set[str], currency: str) -> str:
    return (
        f"rates in {', '.join(sorted(refused))} left out: no exchange rate to {currency} "
        "in OMS_EXCHANGE_RATES (prices in different currencies are not compared)"
    )


@dataclass
class Plan:
    strategy: str
    allocations: list[tuple[Need, Warehouse, int]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    distances: dict[int, float | None] = field(default_factory=dict)  # warehouse pk -> km
    cost: dict | None = None  # {"total", "currency", "shipments": {code: {...}}}
    fallback: str = ""  # the strategy that decided when this one could not
    shortfalls: list[str] = field(default_factory=list)  # why each backorder remains

    def allocated_for(self, need: Need) -> int:
        return sum(q for n, _, q in self.allocations if n is need)

    @property
    def warehouses(self) -> list[Warehouse]:
        seen: dict[int, Warehouse] = {}
        for _, warehouse, _ in self.allocations:
            seen.setdefault(warehouse.pk, warehouse)
        return list(seen.values())

    def backordered(self, needs: Sequence[Need]) -> dict[str, int]:
        short: dict[str, int] = defaultdict(int)
        for need in needs:
            missing = need.quantity - self.allocated_for(need)
            if missing > 0:
                short[need.line.sku] += missing
        return dict(short)

    def as_dict(self, needs: Sequence[Need]) -> dict:
        """JSON-ready summary (the routing preview)."""
        shipments = []
        for warehouse in self.warehouses:
            km = self.distances.get(warehouse.pk)
            shipments.append(
                {
                    "warehouse": warehouse.code,
                    "name": warehouse.name,
                    "distance_km": None if km is None else round(km, 1),
                    "lines": [
                        {"sku": n.line.sku, "quantity": q}
                        for n, w, q in self.allocations
                        if w.pk == warehouse.pk
                    ],
                }
            )
        cost = None
        if self.cost:
            cost = {
                "total": str(self.cost["total"]),
                "currency": self.cost["currency"],
                "shipments": {
                    code: {**quote, "price": str(quote["price"])}
                    for code, quote in self.cost["shipments"].items()
                },
            }
        return {
            "strategy": self.strategy,
            "fallback": self.fallback or None,
            "shipment_count": len(shipments),
            "shipments": shipments,
            "units_allocated": sum(q for _, _, q in self.allocations),
            "backordered": [
                {"sku": sku, "quantity": q} for sku, q in self.backordered(needs).items()
            ],
            "estimated_cost": cost,
            "reasons": list(self.reasons),
        }


Available = dict[tuple[int, int], int]  # (product_id, warehouse_id) -> units available
Planner = Callable[..., Plan]


# --------------------------------------------------------------------------- geography


def point_place(warehouse: Warehouse) -> geo.Place | None:
    """A point's own coordinates when set, else its region/country from the table."""
    if warehouse.latitude is not None and warehouse.longitude is not None:
        return geo.Place(
            float(warehouse.latitude), float(warehouse.longitude), warehouse.code, "exact"
        )
    return geo.locate(warehouse.country, warehouse.region)


def distance_km(destination: Destination | None, warehouse: Warehouse) -> float | None:
    """Great-circle km from the located address to the point, when both can be located."""
    place = point_place(warehouse)
    if destination is None or destination.place is None or place is None:
        return None
    return geo.haversine_km(destination.place.coordinates, place.coordinates)


class _Map:
    """Distances of the candidate points from the destination, and the `nearest` order."""

    def __init__(self, warehouses: Sequence[Warehouse], context: RoutingContext | None):
        self.destination = context.destination if context else None
        self.km = {w.pk: distance_km(self.destination, w) for w in warehouses}

    def _tier(self, w: Warehouse) -> int:
        dest = self.destination
        km = self.km.get(w.pk)
        if dest and dest.place and dest.place.precision == "region" and km is not None:
            return 0  # both located: by distance
        if dest and dest.country and w.country.upper() == dest.country:
            same_region = dest.region and geo.region_code(w.country, w.region) == dest.region
            return 1 if same_region else 2
        return 3

    def nearest_key(self, w: Warehouse) -> tuple:
        tier = self._tier(w)
        km = self.km.get(w.pk)
        if tier == 0:
            return (0, km, w.priority, w.code)
        if tier == 3:
            return (3, math.inf if km is None else km, w.priority, w.code)
        return (tier, 0, w.priority, w.code)

    def priority_key(self, w: Warehouse) -> tuple:
        km = self.km.get(w.pk)
        return (w.priority, math.inf if km is None else km, w.code)

    def where(self, w: Warehouse) -> str:
        """How far, in words: "12 km", "~350 km" (the point located by its region too),
        "same region SP", "same country BR" or ""."""
        tier = self._tier(w)
        km = self.km.get(w.pk)
        own = w.latitude is not None and w.longitude is not None
        dest = self.destination
        same_region = (
            dest is not None
            and bool(dest.region)
            and w.country.upper() == dest.country
            and geo.region_code(w.country, w.region) == dest.region
        )
        if tier in (0, 3) and km is not None and (own or not same_region):
            return f"{km:,.0f} km" if own else f"~{km:,.0f} km"
        if tier == 1 or same_region:
            return f"same region {self.destination.region}"
        if tier == 2:
            return f"same country {self.destination.country}"
        return ""

    def headline(self) -> str:
        dest = self.destination
        if dest is None or not (dest.country or dest.region):
            return "Shipping address unknown; ranked by priority"
        if dest.place and dest.place.precision == "region":
            return f"Nearest to {dest.label} (located at {dest.place.label})"
        if dest.place:
            return (
                f"{dest.label} located only at the {dest.place.label}; ranked by same "
                "region, then same country, then distance, then priority"
            )
        return f"No coordinates for {dest.label}; ranked by same region, then country, priority"


# --------------------------------------------------------------------------- helpers


def _take(plan: Plan, available: Available, need: Need, warehouse: Warehouse, qty: int) -> None:
    key = (need.line.product_id, warehouse.pk)
    available[key] -= qty
    plan.allocations.append((need, warehouse, qty))


def _fill(
    plan: Plan,
    needs: Sequence[Need],
    ordered: Sequence[Warehouse],
    available: Available,
    why: Callable[[Warehouse], str],
) -> list[str]:
    """Each line from the first point in ``ordered`` with all of it, else split across
    them in that order. Mutates ``available``; returns one sentence per line."""
    details = []
    for need in needs:
        pid = need.line.product_id
        whole = next((w for w in ordered if available.get((pid, w.pk), 0) >= need.quantity), None)
        if whole is not None:
            _take(plan, available, need, whole, need.quantity)
            details.append(f"{need.line.sku} x{need.quantity} from {whole.code} ({why(whole)})")
            continue
        remaining = need.quantity
        parts = []
        for w in ordered:
            have = available.get((pid, w.pk), 0)
            if have <= 0 or remaining == 0:
                continue
            qty = min(have, remaining)
            _take(plan, available, need, w, qty)
            parts.append(f"{qty} from {w.code}")
            remaining -= qty
        if parts:
            details.append(
                f"{need.line.sku} x{need.quantity} split: {', '.join(parts)}"
                + (f"; {remaining} backordered" if remaining else "")
            )
        else:
            details.append(f"{need.line.sku} x{need.quantity}: no stock anywhere; backordered")
    return details


def _lines_phrase(n: int, total: int) -> str:
    if n == total:
        return "the only line" if total == 1 else f"all {total} lines"
    return f"{n} of {total} lines"


def _conclude(
    plan: Plan,
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    gmap: _Map,
    headline: Sequence[str],
    details: Sequence[str],
    rank: Callable[[Warehouse], tuple],
    show_priority: bool = False,
) -> Plan:
    """Write the explanation: the headline, each chosen point with what it ships and how
    far it is, the best points not chosen and what they could have shipped, what stays
    backordered and why, then the line-by-line detail."""
    plan.distances = {w.pk: gmap.km.get(w.pk) for w in warehouses}
    total = len(needs)

    def where(w: Warehouse) -> str:
        bits = [gmap.where(w)] + ([f"priority {w.priority}"] if show_priority else [])
        return ", ".join(b for b in bits if b)

    reasons = list(headline)
    chosen = plan.warehouses
    for w in chosen:
        here = [(n, q) for n, wh, q in plan.allocations if wh.pk == w.pk]
        full = sum(1 for n, q in here if q == n.quantity)
        what = _lines_phrase(full, total) if full else ""
        partial = ", ".join(f"{q} of {n.line.sku} x{n.quantity}" for n, q in here if q < n.quantity)
        if partial:
            what = (what + " and " if what else "") + partial
        extra = where(w)
        reasons.append(f"{w.code} chosen: ships {what}" + (f", {extra}" if extra else ""))
    others = sorted((w for w in warehouses if w.pk not in {c.pk for c in chosen}), key=rank)
    shown = 0
    for w in others:
        could = sum(1 for n in needs if available.get((n.line.product_id, w.pk), 0) >= n.quantity)
        if not could or shown >= ALTERNATIVES_SHOWN:
            continue
        shown += 1
        extra = where(w)
        reasons.append(
            f"{w.code} could ship {_lines_phrase(could, total).replace('all ', '')}"
            + (f", {extra}" if extra else "")
        )
    plan.shortfalls = []
    for need in needs:
        missing = need.quantity - plan.allocated_for(need)
        if missing <= 0:
            continue
        pid = need.line.product_id
        anywhere = sum(available.get((pid, w.pk), 0) for w in warehouses)
        plan.shortfalls.append(
            f"{need.line.sku}: {missing} of {need.quantity} backordered ("
            + (
                f"only {anywhere} available at the active points"
                if anywhere
                else "none available at any active point"
            )
            + ")"
        )
    plan.reasons = reasons + plan.shortfalls + list(details)
    return plan


def _demand(needs: Sequence[Need]) -> dict[int, int]:
    demand: dict[int, int] = defaultdict(int)
    for need in needs:
        demand[need.line.product_id] += need.quantity
    return demand


def _covering_sets(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    *,
    smallest_only: bool,
) -> tuple[list[tuple[Warehouse, ...]], bool]:
    """Sets of points that together supply as much of every product as all points do.

    Returns (sets, exhaustive). With ``smallest_only`` only the sets of the smallest size
    are returned. Beyond MAX_SETS_EXAMINED the search stops (exhaustive False)."""
    demand = _demand(needs)
    candidates = [w for w in warehouses if any(available.get((p, w.pk), 0) > 0 for p in demand)]
    target = {
        p: min(q, sum(available.get((p, w.pk), 0) for w in candidates)) for p, q in demand.items()
    }
    if not candidates or not any(target.values()):
        return [], True
    found: list[tuple[Warehouse, ...]] = []
    examined = 0
    for size in range(1, len(candidates) + 1):
        for group in combinations(candidates, size):
            examined += 1
            if examined > MAX_SETS_EXAMINED:
                return found, False
            if all(sum(available.get((p, w.pk), 0) for w in group) >= t for p, t in target.items()):
                found.append(group)
        if found and smallest_only:
            break
    return found, True


def _greedy_cover(
    needs: Sequence[Need], warehouses: Sequence[Warehouse], available: Available, key
) -> tuple[Warehouse, ...]:
    """Add the point that supplies the most still-missing units until nothing more helps."""
    missing = dict(_demand(needs))
    chosen: list[Warehouse] = []
    pool = sorted(warehouses, key=key)
    while any(missing.values()):
        best, best_units = None, 0
        for w in pool:
            units = sum(min(q, available.get((p, w.pk), 0)) for p, q in missing.items())
            if units > best_units:
                best, best_units = w, units
        if best is None:
            break
        chosen.append(best)
        pool.remove(best)
        for p in missing:
            missing[p] = max(0, missing[p] - available.get((p, best.pk), 0))
    return tuple(chosen)


# --------------------------------------------------------------------------- strategies


def plan_priority(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    context: RoutingContext | None = None,
) -> Plan:
    """Each line from the first point (by priority) that can ship all of it; a line no
    single point can ship is split across points in priority order."""
    plan = Plan(strategy="priority")
    start = dict(available)
    gmap = _Map(warehouses, context)
    ordered = sorted(warehouses, key=lambda w: (w.priority, w.code))
    details = _fill(
        plan, needs, ordered, dict(available), lambda w: "first by priority with enough stock"
    )
    headline = "Points by priority: " + ", ".join(f"{w.code} ({w.priority})" for w in ordered)
    return _conclude(
        plan,
        needs,
        warehouses,
        start,
        gmap,
        [headline] if ordered else [],
        details,
        rank=lambda w: (w.priority, w.code),
        show_priority=True,
    )


def plan_nearest(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    context: RoutingContext | None = None,
) -> Plan:
    """Each line from the closest point that has all of it, else split nearest first."""
    plan = Plan(strategy="nearest")
    start = dict(available)
    gmap = _Map(warehouses, context)
    ordered = sorted(warehouses, key=gmap.nearest_key)

    def why(w: Warehouse) -> str:
        where = gmap.where(w)
        return "nearest with enough stock" + (f", {where}" if where else "")

    details = _fill(plan, needs, ordered, dict(available), why)
    return _conclude(
        plan, needs, warehouses, start, gmap, [gmap.headline()], details, gmap.nearest_key
    )


def plan_single_shipment(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    context: RoutingContext | None = None,
) -> Plan:
    """One point that can ship the whole order; else the fewest points that together can
    (ties by priority, then distance). Within the chosen points each line comes from the
    first by priority that has all of it."""
    plan = Plan(strategy="single_shipment")
    start = dict(available)
    gmap = _Map(warehouses, context)
    sets, exhaustive = _covering_sets(needs, warehouses, available, smallest_only=True)

    def set_key(group):
        km = sum(gmap.km.get(w.pk) or 0 for w in group)
        return (len(group), sum(w.priority for w in group), km, [w.code for w in group])

    if sets:
        best = min(sets, key=set_key)
    else:
        best = _greedy_cover(needs, warehouses, available, gmap.priority_key)
    ordered = sorted(best, key=gmap.priority_key)
    details = _fill(
        plan, needs, ordered, dict(available), lambda w: "in the chosen set, first by priority"
    )
    lines = len(needs)
    codes = " + ".join(w.code for w in ordered)
    if not ordered:
        headline = [f"No point has stock for any of the {lines} line(s)"]
    elif len(ordered) == 1 and plan.backordered(needs):
        headline = [f"One shipment: {codes} ships all that is available anywhere"]
    elif len(ordered) == 1:
        headline = [f"One shipment: {codes} can ship the whole order ({lines} line(s))"]
        rivals = [g[0] for g in sets if g[0].pk != ordered[0].pk]
        if rivals:
            headline.append(
                f"{codes} preferred over {', '.join(w.code for w in rivals)} "
                "(also complete) by priority, then distance"
            )
    else:
        search = "" if exhaustive and sets else " (greedy search: many points)"
        headline = [
            f"No single point can ship all {lines} line(s); fewest shipments: "
            f"{len(ordered)} ({codes}){search}"
        ]
    return _conclude(plan, needs, warehouses, start, gmap, headline, details, gmap.priority_key)


def _quote(rates: Sequence[Rate], region: str, grams: int) -> Rate | None:
    """Cheapest service for one parcel; a service's rate for the region replaces its
    country-wide rate."""
    by_service: dict[str, Rate] = {}
    for rate in rates:
        if rate.region not in ("", region):
            continue
        if not rate.min_weight_grams <= grams <= rate.max_weight_grams:
            continue
        current = by_service.get(rate.service)
        if (
            current is None
            or (rate.region and not current.region)
            or (bool(rate.region) == bool(current.region) and rate.price < current.price)
        ):
            by_service[rate.service] = rate
    return min(
        by_service.values(), key=lambda r: (r.price, r.transit_days, r.service), default=None
    )


def _price(plan: Plan, context: RoutingContext) -> tuple[dict | None, str]:
    """Total shipping of a plan (one parcel per point) or (None, why it cannot be priced)."""
    region = context.destination.region if context.destination else ""
    grams: dict[int, int] = defaultdict(int)
    for need, warehouse, qty in plan.allocations:
        grams[warehouse.pk] += context.weights.get(need.line.product_id, 0) * qty
    shipments = {}
    total = Decimal("0")
    currencies = set()
    for warehouse in plan.warehouses:
        rate = _quote(context.rates or (), region, grams[warehouse.pk])
        if rate is None:
            return None, f"no rate covers a {grams[warehouse.pk]} g parcel"
        shipments[warehouse.code] = {
            "service": rate.service,
            "weight_grams": grams[warehouse.pk],
            "price": rate.price,
            "currency": rate.currency,
            "transit_days": rate.transit_days,
            **({"converted_from": rate.original} if rate.original else {}),
        }
        total += rate.price
        currencies.add(rate.currency)
    if len(currencies) > 1:  # never: plan_cost hands over rates in one currency
        return None, "rates in different currencies cannot be summed"
    return {"total": total, "currency": "/".join(sorted(currencies)), "shipments": shipments}, ""


def plan_cost(
    needs: Sequence[Need],
    warehouses: Sequence[Warehouse],
    available: Available,
    context: RoutingContext | None = None,
) -> Plan:
    """The points whose parcels cost least in total by the rate tables (one parcel per
    point, cheapest service for its weight and the destination). Without a matching rate
    it falls back to ``nearest`` and says so."""
    dest = context.destination if context else None
    where_to = dest.label if dest else "this address"

    def fallback(why: str) -> Plan:
        plan = plan_nearest(needs, warehouses, available, context)
        plan.strategy, plan.fallback = "cost", "nearest"
        plan.reasons.insert(0, f"Cost: {why}; fell back to nearest")
        return plan

    if not context or not context.rates:
        return fallback(f"no shipping rates to {where_to} yet")
    rates, refused = rates_in_currency(context.rates, context.currency)
    currency = context.currency or (rates[0].currency if rates else "")
    refused_note = _refused_note(refused, currency) if refused else ""
    if not rates:
        return fallback(f"no rate to {where_to} in {currency}; {refused_note}")
    context = replace(context, rates=rates)
    gmap = _Map(warehouses, context)
    sets, exhaustive = _covering_sets(needs, warehouses, available, smallest_only=False)
    if not sets:
        sets = [_greedy_cover(needs, warehouses, available, gmap.nearest_key)]
    trials = []
    seen = set()
    why_not = ""
    for group in sets:
        trial = Plan(strategy="cost")
        details = _fill(
            trial, needs, sorted(group, key=gmap.nearest_key), dict(available), lambda w: ""
        )
        signature = tuple(sorted((n.line.pk, w.pk, q) for n, w, q in trial.allocations))
        if signature in seen:
            continue
        seen.add(signature)
        priced, why = _price(trial, context)
        if priced is None:
            why_not = why_not or why
            continue
        km = sum(gmap.km.get(w.pk) or 0 for w in trial.warehouses)
        rank = (priced["total"], len(trial.warehouses), km, sum(w.priority for w in group))
        trials.append((rank, trial, priced, details))
    if not trials:
        why = f"{why_not or 'no rate matches'} to {where_to}"
        return fallback(f"{why}; {refused_note}" if refused_note else why)
    trials.sort(key=lambda t: t[0])
    _, plan, priced, details = trials[0]
    plan.cost = priced
    details = [d.replace(" ()", "") for d in details]
    parts = ", ".join(
        f"{code} {q['weight_grams'] / 1000:.1f} kg {q['service']} {q['price']}"
        for code, q in priced["shipments"].items()
    )
    headline = [
        f"Cheapest shipping to {where_to}: {priced['total']} {priced['currency']} for "
        f"{len(plan.warehouses)} parcel(s) ({parts})"
    ]
    if len(trials) > 1:
        _, runner, runner_cost, _ = trials[1]
        headline.append(
            f"next best {runner_cost['total']} {runner_cost['currency']} from "
            + " + ".join(w.code for w in runner.warehouses)
        )
    converted = sorted(
        {
            q["converted_from"].split()[-1]
            for q in priced["shipments"].values()
            if q.get("converted_from")
        }
    )
    if converted:
        headline.append(
            f"prices in {', '.join(converted)} converted to {currency} by OMS_EXCHANGE_RATES"
        )
    if refused_note:
        headline.append(refused_note)
    if not exhaustive:
        headline.append("searched the first point sets only (many points)")
    return _conclude(
        plan, needs, warehouses, dict(available), gmap, headline, details, gmap.nearest_key
    )


STRATEGIES: dict[str, Planner] = {
    "priority": plan_priority,
    "single_shipment": plan_single_shipment,
    "nearest": plan_nearest,
    "cost": plan_cost,
}
