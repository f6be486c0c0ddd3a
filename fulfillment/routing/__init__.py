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

Split by role: ``plans`` (needs, destinations, rates, the plan), ``geography`` (points'
places and distances), ``covering`` (filling a plan, covering the demand with point sets),
``strategies`` (the strategies and ``STRATEGIES``). The names stay importable from
``fulfillment.routing``.
"""

from fulfillment.routing.covering import ALTERNATIVES_SHOWN, MAX_SETS_EXAMINED
from fulfillment.routing.geography import distance_km, point_place
from fulfillment.routing.plans import (
    Available,
    Destination,
    Need,
    Plan,
    Planner,
    Rate,
    RoutingContext,
    rates_in_currency,
)
from fulfillment.routing.strategies import (
    STRATEGIES,
    plan_cost,
    plan_nearest,
    plan_priority,
    plan_single_shipment,
)

__all__ = [
    "ALTERNATIVES_SHOWN",
    "MAX_SETS_EXAMINED",
    "STRATEGIES",
    "Available",
    "Destination",
    "Need",
    "Plan",
    "Planner",
    "Rate",
    "RoutingContext",
    "distance_km",
    "plan_cost",
    "plan_nearest",
    "plan_priority",
    "plan_single_shipment",
    "point_place",
    "rates_in_currency",
]
