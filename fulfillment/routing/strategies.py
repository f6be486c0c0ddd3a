"""The routing strategies (priority, nearest, single_shipment, cost) and the name -> strategy
table."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from fulfillment.routing.covering import _conclude, _covering_sets, _fill, _greedy_cover
from fulfillment.routing.geography import _Map
from fulfillment.routing.plans import (
    Available,
    Need,
    Plan,
    Planner,
    Rate,
    RoutingContext,
    _refused_note,
    rates_in_currency,
)
from inventory.models import Warehouse

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
