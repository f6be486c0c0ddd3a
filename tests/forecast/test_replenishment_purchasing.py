"""Replenishment and purchasing: what is on order is not ordered again, and the chosen
suggestions become draft purchase orders per supplier and point."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inventory.models import DemandForecast, PurchaseOrder, Supplier, SupplierProduct
from inventory.purchasing import (
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
)
from inventory.replenishment import suggestions
from inventory.transfers import transfer_create, transfer_dispatch
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(settings):
    """TEE (lead time 9) at SP with 60 available and a forecast of 10/day, sigma 4:
    the replenishment tests' set-up, which suggests ordering 190 now."""
    settings.OMS_SERVICE_LEVEL = 0.95
    settings.OMS_REPLENISHMENT_REVIEW_DAYS = 14
    sp = f.make_warehouse("SP", priority=1)
    tee = f.make_product("TEE", lead_time_days=9)
    f.receive(tee, sp, 70)
    f.confirm(f.place([(tee, 10)]))
    DemandForecast.objects.create(
        product=tee, warehouse=sp, method="ses", level=10.0, weekday_factors=[1.0] * 7,
        sigma=4.0, wape=0.2, computed_at=timezone.now(),
    )  # fmt: skip
    supplier = Supplier.objects.create(code="ACME", name="Acme", lead_time_days=9)
    SupplierProduct.objects.create(supplier=supplier, product=tee, unit_cost="5.00")
    return sp, tee, supplier


def _row(sku="TEE"):
    return next(r for r in suggestions() if r.sku == sku)


def test_what_is_on_order_is_not_ordered_again(stocked):
    sp, tee, supplier = stocked
    today = timezone.localdate()
    before = _row()
    assert (before.on_order, before.order_quantity, before.status) == (0, 190, "order_now")
    assert before.order_by == today

    # 150 drafted: 60 available + 150 last until day 11 (10 a day, reorder point 110)
    purchase_order_create(
        supplier=supplier, warehouse=sp, lines=[{"product": tee, "quantity": 150}]
    )
    row = _row()
    assert (row.on_order, row.status) == (150, "ok")
    assert row.order_by == today + timedelta(days=11)

    # 30 more in transit from another point: three more days
    other = f.make_warehouse("RJ", priority=2)
    f.receive(tee, other, 30)
    transfer_dispatch(
        transfer=transfer_create(
            source=other, destination=sp, lines=[{"product": tee, "quantity": 30}]
        )
    )
    row = _row()
    assert (row.on_order, row.order_by) == (180, today + timedelta(days=14))

    # received: no longer on order, on hand instead; the date stays
    po = PurchaseOrder.objects.get()
    purchase_order_send(purchase_order=po)
    purchase_order_receive(purchase_order=po, quantities=[(tee, 150)])
    row = _row()
    assert (row.on_order, row.available, row.order_by) == (30, 210, today + timedelta(days=14))


def test_selected_suggestions_become_draft_pos_and_are_not_drafted_twice(stocked, client):
    sp, tee, supplier = stocked
    user = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    page = client.get("/replenishment/").content.decode()
    assert 'name="pick" value="TEE@SP"' in page

    response = client.post("/replenishment/purchase-orders/", {"pick": ["TEE@SP"]}, follow=True)

    po = PurchaseOrder.objects.get()
    assert (po.supplier, po.warehouse, po.status) == (supplier, sp, "draft")
    assert list(po.lines.values_list("product__sku", "quantity")) == [("TEE", 190)]
    body = response.content.decode()
    assert f"Drafted 1 purchase order(s): {po.number} (ACME → SP)" in body
    assert "+190 on order" in body

    again = client.post("/replenishment/purchase-orders/", {"pick": ["TEE@SP"]}, follow=True)
    assert PurchaseOrder.objects.count() == 1
    assert "1 selected row(s) need no order now" in again.content.decode()


def test_a_sku_without_a_supplier_is_named_and_nothing_is_drafted_for_it(stocked, client):
    _, tee, _ = stocked
    SupplierProduct.objects.all().delete()
    user = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    response = client.post("/replenishment/purchase-orders/", {"pick": ["TEE@SP"]}, follow=True)
    assert "No supplier to order from: TEE" in response.content.decode()
    assert not PurchaseOrder.objects.exists()
