"""Admin: purchase orders and transfers are added as drafts through the services, moved
by actions, exported as CSV; their statuses stay read-only."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from inventory.models import PurchaseOrder, Supplier, Transfer
from oms.roles import MANAGER
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, django_user_model):
    user = django_user_model.objects.create_user("boss", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    return client


@pytest.fixture
def setup():
    wh = f.make_warehouse("SP-01", priority=1)
    store = f.make_warehouse("RJ-01", priority=2)
    mug = f.make_product("MUG-BLU")
    supplier = Supplier.objects.create(code="ACME", name="Acme", lead_time_days=3)
    return wh, store, mug, supplier


def test_manager_adds_a_purchase_order_with_typed_lines_then_sends_it(manager_client, setup):
    wh, _, mug, supplier = setup
    add = reverse("admin:inventory_purchaseorder_add")
    bad = manager_client.post(
        add, {"supplier": supplier.pk, "warehouse": wh.pk, "lines_text": "NOPE 3\nMUG-BLU x"}
    )
    assert "line 1: unknown SKU NOPE" in bad.content.decode()
    assert "line 2: the quantity must be a whole number" in bad.content.decode()
    assert not PurchaseOrder.objects.exists()

    response = manager_client.post(
        add, {"supplier": supplier.pk, "warehouse": wh.pk, "lines_text": "MUG-BLU 40 3.10"}
    )
    assert response.status_code == 302
    po = PurchaseOrder.objects.get()
    assert po.number.startswith("PO-") and po.status == "draft"
    assert po.lines.get().quantity == 40
    assert list(po.events.values_list("actor", flat=True)) == ["boss"]

    changelist = reverse("admin:inventory_purchaseorder_changelist")
    manager_client.post(changelist, {"action": "send", "_selected_action": [po.pk]})
    po.refresh_from_db()
    assert po.status == "sent"
    again = manager_client.post(
        changelist, {"action": "send", "_selected_action": [po.pk]}, follow=True
    )
    assert f"{po.number}: Purchase order {po.number} is sent; cannot send" in again.content.decode()

    export = manager_client.post(changelist, {"action": "export_csv", "_selected_action": [po.pk]})
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["number"], r["status"], r["sku"], r["remaining"]) for r in rows] == [
        (po.number, "sent", "MUG-BLU", "40")
    ]


def test_manager_adds_and_dispatches_a_transfer(manager_client, setup):
    wh, store, mug, _ = setup
    f.receive(mug, wh, 8)
    response = manager_client.post(
        reverse("admin:inventory_transfer_add"),
        {"source": wh.pk, "destination": store.pk, "lines_text": "MUG-BLU 5"},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    changelist = reverse("admin:inventory_transfer_changelist")
    manager_client.post(
        changelist, {"action": "dispatch_transfers", "_selected_action": [transfer.pk]}
    )
    transfer.refresh_from_db()
    assert transfer.status == "in_transit"
    assert f.quantities(mug, wh) == (3, 0)
    export = manager_client.post(
        changelist, {"action": "export_csv", "_selected_action": [transfer.pk]}
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["sku"], r["in_transit"]) for r in rows] == [("MUG-BLU", "5")]
    page = manager_client.get(reverse("admin:inventory_transfer_change", args=[transfer.pk]))
    assert f"/floor/stock/receive/transfer/{transfer.number}/" in page.content.decode()
