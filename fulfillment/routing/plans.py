"""What a strategy plans with: the needs, the destination, rates in one currency, the plan."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from fulfillment import geo
from inventory.models import Warehouse
from kernel.money import convert, quantize_money
from orders.models import OrderLine


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
