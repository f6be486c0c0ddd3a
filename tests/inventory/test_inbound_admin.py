"""Admin: purchase orders and transfers are added as drafts through the services, moved
by actions, exported as CSV; their statuses stay read-only."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from inventory.models import PurchaseOrder, Supplier, Transfer
from kernel.roles import MANAGER
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


def test_close_short_and_cancel_ask_for_a_reason_then_move_the_orders(manager_client, setup):
    wh, _, mug, supplier = setup
    from inventory import purchasing

    def sent_po():
        po = purchasing.purchase_order_create(
            supplier=supplier, warehouse=wh, lines=[{"product": mug, "quantity": 10}]
        )
        return purchasing.purchase_order_send(purchase_order=po)

    partly, untouched = sent_po(), sent_po()
    purchasing.purchase_order_receive(purchase_order=partly, quantities=[(mug, 4)])
    changelist = reverse("admin:inventory_purchaseorder_changelist")

    page = manager_client.post(
        changelist, {"action": "close_short", "_selected_action": [partly.pk]}
    )
    assert page.status_code == 200 and "Close short" in page.content.decode()
    partly.refresh_from_db()
    assert partly.status == "partially_received"  # the page asked; nothing moved yet

    blank = manager_client.post(
        changelist,
        {"action": "close_short", "apply": "1", "_selected_action": [partly.pk], "reason": " "},
    )
    assert blank.status_code == 200 and "This field is required" in blank.content.decode()

    done = manager_client.post(
        changelist,
        {
            "action": "close_short",
            "apply": "1",
            "_selected_action": [partly.pk, untouched.pk],
            "reason": "Supplier out of stock",
        },
        follow=True,
    )
    text = done.content.decode()
    partly.refresh_from_db()
    untouched.refresh_from_db()
    assert (partly.status, untouched.status) == ("received", "sent")
    assert f"Closed 1 purchase order: {partly.number}" in text
    assert f"{untouched.number}: " in text  # refused by name (nothing received: cancel it)
    assert "Supplier out of stock" in partly.events.get(kind="closed_short").message

    manager_client.post(
        changelist,
        {
            "action": "cancel",
            "apply": "1",
            "_selected_action": [untouched.pk],
            "reason": "Ordered twice",
        },
    )
    untouched.refresh_from_db()
    assert untouched.status == "cancelled"
    assert untouched.events.get(kind="cancelled").message == "Cancelled: Ordered twice"
