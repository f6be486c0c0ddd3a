"""Dashboard: open purchase orders and overdue receipts."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inventory.models import Supplier
from inventory.purchasing import purchase_order_create, purchase_order_send
from inventory.transfers import transfer_create, transfer_dispatch
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_dashboard_counts_open_pos_and_lists_overdue_receipts(client):
    sp = f.make_warehouse("SP-01", priority=1)
    rj = f.make_warehouse("RJ-01", priority=2)
    mug = f.make_product("MUG-BLU")
    f.receive(mug, sp, 5)
    supplier = Supplier.objects.create(code="ACME", name="Acme Mugs")
    today = timezone.localdate()
    late = purchase_order_send(
        purchase_order=purchase_order_create(
            supplier=supplier,
            warehouse=sp,
            expected_date=today - timedelta(days=3),
            lines=[{"product": mug, "quantity": 5}],
        )
    )
    purchase_order_create(supplier=supplier, warehouse=sp, lines=[{"product": mug, "quantity": 1}])
    transfer_dispatch(
        transfer=transfer_create(
            source=sp,
            destination=rj,
            expected_date=today - timedelta(days=1),
            lines=[{"product": mug, "quantity": 2}],
        )
    )
    transfer_dispatch(
        transfer=transfer_create(
            source=sp,
            destination=rj,
            expected_date=today + timedelta(days=1),
            lines=[{"product": mug, "quantity": 1}],
        )
    )
    user = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)

    response = client.get("/dashboard/")

    inbound = response.context["inbound"]
    assert (inbound["open"], inbound["drafts"], inbound["due"]) == (2, 1, 1)
    overdue = [(r["number"][:3], r["days"]) for r in inbound["overdue"]]
    assert overdue == [("PO-", 3), ("TR-", 1)]
    assert inbound["overdue"][0]["number"] == late.number
    body = response.content.decode()
    assert "open purchase orders (1 due)" in body
    assert f"/admin/inventory/purchaseorder/{late.pk}/change/" in body
    assert "transfer SP-01 → RJ-01" in body
