"""``manage.py seed_demo``: a demo shop in every state, built through the services."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from rest_framework.authtoken.models import Token

from demo.support import ean13
from fulfillment.models import PickList, Shipment, ShipmentLine
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.selectors import stock_ledger_mismatches
from orders.models import Channel, Customer, Order, OrderEvent, OrderLine
from returns.models import Refund, ReturnLine, ReturnRequest

pytestmark = pytest.mark.django_db

BIN = re.compile(r"^[A-Z]-\d{2}-\d{2}$")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    models = [
        Warehouse, Product, StockLevel, StockMovement, Channel, Customer, Order, OrderLine,
        OrderEvent, Shipment, ShipmentLine, PickList, ReturnRequest, ReturnLine, Refund,
        Token, get_user_model(),
    ]  # fmt: skip
    counts = {model.__name__: model.objects.count() for model in models}
    counts["stock"] = StockLevel.objects.aggregate(Sum("on_hand"), Sum("reserved"))
    return counts


def test_seed_demo_builds_a_shop_in_every_state_and_a_second_run_adds_nothing(settings):
    from fulfillment.carriers import adapter_for
    from fulfillment.carriers.easyparcel_fake import FakeEasyParcel
    from fulfillment.models import Carrier

    fake = FakeEasyParcel(currency="BRL", accept_any_refresh_token=True).start()
    settings.OMS_DEMO_EASYPARCEL_URL = fake.url
    try:
        output = seed()
        # The EasyParcel carrier quotes a packed demo shipment from the development fake.
        easyparcel = Carrier.objects.get(code="easyparcel", kind=Carrier.Kind.EASYPARCEL)
        packed = Shipment.objects.filter(status="packed").first()
        rates = adapter_for(easyparcel).quote(packed)
        assert rates and {r.currency for r in rates} == {"BRL"}
    finally:
        fake.close()
    assert "Demo data created" in output
    assert "manager-demo-2026" in output and "API token:" in output

    # Fulfillment points in different states, with coordinates, one of them a store.
    points = Warehouse.objects.all()
    assert points.count() >= 3
    assert points.filter(kind=Warehouse.Kind.STORE).exists()
    assert len({p.region for p in points}) >= 3
    assert all(p.latitude is not None and p.longitude is not None for p in points)

    # Products with valid EAN-13 barcodes, a pick location, weights and prices.
    products = list(Product.objects.all())
    assert len(products) >= 50
    for product in products:
        assert len(product.barcode) == 13 and product.barcode == ean13(product.barcode[:12])
        assert product.weight_grams > 0 and product.price > 0
        bins = StockLevel.objects.filter(product=product).values_list("bin", flat=True)
        assert bins and all(BIN.match(b) for b in bins), product.sku
    stocked_points = StockLevel.objects.filter(on_hand__gt=0).values("warehouse").distinct()
    assert stocked_points.count() >= 3

    assert {"web", "api", "csv", "amazon-br", "mercadolivre", "pos"} <= set(
        Channel.objects.values_list("code", flat=True)
    )

    # Orders spread over the last 90 days, in every state.
    orders = Order.objects.all()
    assert orders.count() >= 150
    now = timezone.now()
    assert not orders.filter(placed_at__lt=now - timedelta(days=91)).exists()
    assert orders.filter(placed_at__lt=now - timedelta(days=60)).exists()
    assert orders.filter(placed_at__gt=now - timedelta(days=2)).exists()
    assert set(orders.values_list("status", flat=True)) == set(Order.Status.values)
    assert not orders.filter(status=Order.Status.ON_HOLD, hold_reason="").exists()
    assert not orders.filter(status=Order.Status.CANCELLED, cancel_reason="").exists()
    assert orders.filter(
        status=Order.Status.CONFIRMED,
        allocation_status__in=[Order.AllocationStatus.UNALLOCATED, Order.AllocationStatus.PARTIAL],
    ).exists(), "some confirmed orders are backordered"
    assert set(Shipment.objects.values_list("status", flat=True)) == set(Shipment.Status.values)
    assert Shipment.objects.filter(status="picking", pick_list__isnull=False).exists()
    assert PickList.objects.filter(status=PickList.Status.DONE).exists()

    # Returns at every step, and refunds.
    assert {"requested", "approved", "received", "refunded"} <= set(
        ReturnRequest.objects.values_list("status", flat=True)
    )
    assert Refund.objects.filter(return_request__isnull=False).exists()
    assert orders.filter(financial_status=Order.FinancialStatus.PARTIALLY_REFUNDED).exists()
    assert StockMovement.objects.filter(kind=StockMovement.Kind.RETURN_RESTOCK).exists()

    # The users, with their roles.
    User = get_user_model()
    manager = User.objects.get(username="manager")
    assert manager.is_staff and not manager.is_superuser
    assert list(manager.groups.values_list("name", flat=True)) == ["manager"]
    assert manager.check_password("manager-demo-2026")
    floor = User.objects.get(username="warehouse")
    assert not floor.is_staff
    assert list(floor.groups.values_list("name", flat=True)) == ["warehouse"]
    integration = User.objects.get(username="integration")
    assert list(integration.groups.values_list("name", flat=True)) == ["integration"]
    assert Token.objects.filter(user=integration).exists()

    # Run again: nothing added, the users are reset, the ledger is still true.
    before = snapshot()
    manager.set_password("changed")
    manager.save()
    output = seed()
    assert "already present" in output
    assert snapshot() == before
    manager.refresh_from_db()
    assert manager.check_password("manager-demo-2026")
    assert stock_ledger_mismatches() == []
    call_command("check_stock_ledger", stdout=io.StringIO())


def test_seed_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Product.objects.exists()
    assert not get_user_model().objects.filter(username="manager").exists()
