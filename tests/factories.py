"""Test data built through the services, so the ledger and events stay true."""

import itertools
from decimal import Decimal

from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from orders.models import Channel
from orders.services import order_place

_seq = itertools.count(1)


def make_product(sku: str | None = None, *, price="10.00", weight_grams=500, **kw) -> Product:
    n = next(_seq)
    sku = sku or f"SKU-{n:05d}"
    return Product.objects.create(
        sku=sku,
        name=kw.pop("name", f"Product {sku}"),
        price=Decimal(price),
        weight_grams=weight_grams,
        barcode=kw.pop("barcode", f"789{n:010d}"),
        **kw,
    )


def make_warehouse(
    code: str | None = None, *, priority=10, country="BR", region="SP", **kw
) -> Warehouse:
    code = code or f"WH-{next(_seq):03d}"
    return Warehouse.objects.create(
        code=code,
        name=kw.pop("name", f"Warehouse {code}"),
        priority=priority,
        country=country,
        region=region,
        **kw,
    )


def channel(code: str = "web", **kw) -> Channel:
    ch, _ = Channel.objects.get_or_create(code=code, defaults={"name": code.title(), **kw})
    return ch


def receive(product, warehouse, quantity, **kw):
    return stock_receive(product=product, warehouse=warehouse, quantity=quantity, **kw)


def place(lines, *, channel_code="web", external_id=None, **kw):
    """``lines``: list of (product, quantity[, unit_price])."""
    order, _ = order_place(
        channel=channel(channel_code),
        external_id=external_id,
        customer=kw.pop("customer", {"email": "ana@example.com", "name": "Ana Lima"}),
        shipping_address=kw.pop(
            "shipping_address",
            {
                "name": "Ana Lima",
                "line1": "Rua A 1",
                "city": "Campinas",
                "region": "SP",
                "postcode": "13023-000",
                "country": "BR",
            },
        ),
        currency=kw.pop("currency", "BRL"),
        lines=[
            {"sku": p.sku, "quantity": q, "unit_price": (rest[0] if rest else str(p.price))}
            for p, q, *rest in lines
        ],
        **kw,
    )
    return order


# --------------------------------------------------------------------------- helpers
# Added for the service tests; build on the services above.


def level(product, warehouse):
    """The (product, warehouse) StockLevel, fresh from the database."""
    from inventory.models import StockLevel

    return StockLevel.objects.get(product=product, warehouse=warehouse)


def quantities(product, warehouse) -> tuple[int, int]:
    """(on_hand, reserved) of one stock level, fresh from the database."""
    lv = level(product, warehouse)
    return lv.on_hand, lv.reserved


def movements(**filters) -> list[tuple[str, int, int, str]]:
    """Ledger rows as (kind, on_hand_delta, reserved_delta, reference), oldest first."""
    from inventory.models import StockMovement

    return list(
        StockMovement.objects.filter(**filters)
        .order_by("created_at", "id")
        .values_list("kind", "on_hand_delta", "reserved_delta", "reference")
    )


def event_kinds(order) -> list[str]:
    """The order's timeline kinds, oldest first."""
    return list(order.events.order_by("created_at", "id").values_list("kind", flat=True))


def last_event(order, kind: str | None = None):
    events = order.events.order_by("created_at", "id")
    if kind is not None:
        events = events.filter(kind=kind)
    return events.last()


def statuses(order) -> tuple[str, str, str, str]:
    """The order's four states (status, allocation, fulfillment, financial), refreshed."""
    order.refresh_from_db()
    return (
        order.status,
        order.allocation_status,
        order.fulfillment_status,
        order.financial_status,
    )


def confirm(order, **kw):
    """Confirm and allocate (the 'confirm' button); returns the refreshed order."""
    from fulfillment.services import order_confirm_and_allocate

    order_confirm_and_allocate(order=order, **kw)
    order.refresh_from_db()
    return order


def assert_ledger_clean() -> None:
    """The ledger invariant: every stock level equals the sums of its movements."""
    from io import StringIO

    from django.core.management import call_command

    from inventory.selectors import stock_ledger_mismatches

    assert stock_ledger_mismatches() == []
    out = StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "Stock ledger clean" in out.getvalue()
