"""Reads for the staff order page: customers and products by a few typed letters, each
product's live availability across the fulfillment points, the shipping methods with
their price for the draft's destination, and the open drafts."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Q

from fulfillment.models import CarrierService, ShippingRate
from intake.models import OrderDraft
from inventory.models import Product, StockLevel
from orders.models import Customer, Order
from orders.services import ADDRESS_FIELDS as ADDRESS_KEYS

SEARCH_LIMIT = 10


@dataclass
class Availability:
    """Units free to promise (on hand - reserved) over the active points, and per point."""

    total: int = 0
    points: list[tuple[str, int]] = field(default_factory=list)


def availability(*, product_ids: Iterable[int]) -> dict[int, Availability]:
    """``{product_id: Availability}`` for the given products (one query); a product
    with no stock level anywhere is absent (0 available)."""
    ids = set(product_ids)
    if not ids:
        return {}
    found: dict[int, Availability] = {}
    rows = (
        StockLevel.objects.filter(product_id__in=ids, warehouse__active=True)
        .annotate(free=F("on_hand") - F("reserved"))
        .values_list("product_id", "warehouse__code", "free")
        .order_by("product_id", "warehouse__priority", "warehouse__code")
    )
    for product_id, code, free in rows:
        entry = found.setdefault(product_id, Availability())
        entry.total += free
        if free:
            entry.points.append((code, free))
    return found


def customer_search(*, q: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers whose e-mail or name contains ``q`` (any case); exact e-mail first."""
    q = (q or "").strip()
    if len(q) < 2:
        return []
    return list(
        Customer.objects.filter(Q(email__icontains=q) | Q(name__icontains=q)).order_by(
            "name", "email"
        )[:limit]
    )


def customer_last_address(*, customer: Customer) -> dict:
    """The ship-to of the customer's latest order (a phone customer's usual address)."""
    order = (
        Order.objects.filter(customer=customer)
        .order_by("-placed_at", "-id")
        .values(*(f"ship_{k}" for k in ADDRESS_KEYS))
        .first()
    )
    return {k: order[f"ship_{k}"] for k in ADDRESS_KEYS} if order else {}


def product_search(*, q: str, limit: int = SEARCH_LIMIT) -> list[Product]:
    """Active products whose SKU, name or barcode contains ``q`` (any case)."""
    q = (q or "").strip()
    if not q:
        return []
    return list(
        Product.objects.filter(active=True)
        .filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(barcode__icontains=q))
        .order_by("sku")[:limit]
    )


@dataclass(frozen=True)
class ShippingMethod:
    code: str  # "carrier:service"
    label: str
    price: Decimal | None = None  # for the destination and weight, in the draft's currency
    transit_days: int | None = None


def shipping_methods(
    *, country: str = "", region: str = "", grams: int = 0, currency: str = ""
) -> list[ShippingMethod]:
    """The active carrier services, each with its rate for a parcel of ``grams`` to the
    destination when it has one in ``currency`` (a region's rate before the country's)."""
    services = list(
        CarrierService.objects.filter(active=True, carrier__active=True)
        .select_related("carrier")
        .order_by("carrier__code", "code")
    )
    rates: dict[int, ShippingRate] = {}
    if country:
        candidates = ShippingRate.objects.filter(
            service__in=services,
            country=country.upper(),
            currency=currency.upper(),
            min_weight_grams__lte=grams,
            max_weight_grams__gte=grams,
        ).filter(Q(region="") | Q(region=region))
        for rate in candidates:
            best = rates.get(rate.service_id)
            if (
                best is None
                or (rate.region and not best.region)
                or (bool(rate.region) == bool(best.region) and rate.price < best.price)
            ):
                rates[rate.service_id] = rate
    methods = []
    for service in services:
        rate = rates.get(service.pk)
        methods.append(
            ShippingMethod(
                code=f"{service.carrier.code}:{service.code}",
                label=f"{service.carrier.name} · {service.name}",
                price=rate.price if rate else None,
                transit_days=rate.transit_days if rate else None,
            )
        )
    return methods


@dataclass
class DraftLine:
    sku: str
    quantity: int
    unit_price: str
    product: Product | None
    available: Availability
    line_total: Decimal | None

    @property
    def short(self) -> int:
        """Units beyond what is free now (they would be backordered)."""
        return max(self.quantity - self.available.total, 0)


def draft_lines(*, draft: OrderDraft) -> list[DraftLine]:
    """The draft's lines with their products and live availability (two queries)."""
    skus = [str(line.get("sku") or "") for line in draft.lines]
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    free = availability(product_ids=[p.pk for p in products.values()])
    rows = []
    for line in draft.lines:
        product = products.get(line.get("sku"))
        try:
            total = Decimal(str(line.get("unit_price"))) * int(line.get("quantity"))
        except (ArithmeticError, TypeError, ValueError):
            total = None
        rows.append(
            DraftLine(
                sku=line.get("sku", ""),
                quantity=line.get("quantity", 0),
                unit_price=str(line.get("unit_price", "")),
                product=product,
                available=free.get(product.pk, Availability()) if product else Availability(),
                line_total=total,
            )
        )
    return rows


def draft_weight_grams(rows: list[DraftLine]) -> int:
    return sum((row.product.weight_grams or 0) * row.quantity for row in rows if row.product)


def open_drafts(*, limit: int = 100) -> list[OrderDraft]:
    """Drafts not placed yet, the latest edited first."""
    return list(
        OrderDraft.objects.filter(placed_order=None).select_related("created_by", "channel")[:limit]
    )
