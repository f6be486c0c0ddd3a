"""The order page's edit and cancel-lines forms: managers only, locked lines say why,
refusals come back as form errors."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.services import shipment_start_picking
from kernel.roles import MANAGER, WAREHOUSE
from orders.models import Order, OrderEvent
from orders.services import order_hold, order_mark_paid
from tests import factories as f

pytestmark = pytest.mark.django_db


def staff(client, group):
    user = User.objects.create_user(f"u-{group}", password="pw-123456")
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def order():
    main = f.make_warehouse("MAIN", priority=1)
    side = f.make_warehouse("SIDE", priority=9)
    mug, plate = f.make_product("MUG", price="7.50"), f.make_product("PLATE", price="3.00")
    f.receive(mug, main, 10)
    f.receive(plate, side, 10)
    order = f.place([(mug, 2), (plate, 1)])
    order_mark_paid(order=order)
    return f.confirm(order)


def form_of(order, **changes) -> dict:
    """The edit form as the page posts it, with ``changes`` on top."""
    data = {}
    for line in order.lines.all():
        data[f"qty-{line.pk}"] = str(line.quantity)
        data[f"expected-{line.pk}"] = str(line.quantity)
    for k in ("name", "line1", "line2", "city", "region", "postcode", "country", "phone"):
        data[f"ship-{k}"] = getattr(order, f"ship_{k}")
    data["shipping_total"] = str(order.shipping_total)
    data.update(changes)
    return data


def test_manager_edits_a_quantity_from_the_order_page(client, order):
    staff(client, MANAGER)
    mug = order.lines.get(sku="MUG")
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="order-edit-form"' in page and f'name="qty-{mug.pk}"' in page
    assert 'name="ship-city"' in page and "Address locked" not in page

    response = client.post(
        f"/orders/{order.number}/edit/", form_of(order, **{f"qty-{mug.pk}": "3"}), follow=True
    )

    body = response.content.decode()
    assert "MUG quantity 2 -&gt; 3" in body  # the success message and the timeline
    order.refresh_from_db()
    assert order.total == Decimal("25.50")
    assert "Amount due from the customer" in body
    f.assert_ledger_clean()


def test_locked_lines_say_why_and_others_stay_editable(client, order):
    staff(client, MANAGER)
    picking = order.shipments.get(warehouse__code="MAIN")
    shipment_start_picking(shipment=picking)
    mug, plate = order.lines.get(sku="MUG"), order.lines.get(sku="PLATE")

    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f"Locked: picking has started ({picking.number} is picking)" in page
    assert f'name="qty-{mug.pk}"' not in page and f'name="qty-{plate.pk}"' in page
    assert f'name="cancel-{mug.pk}"' not in page and f'name="cancel-{plate.pk}"' in page
    # the address is one for the whole order: locked while a parcel is being picked
    assert f"Address locked: picking has started ({picking.number} is picking)" in page
    assert 'name="ship-city"' not in page

    # the other shipment's line is edited from the page while MAIN is being picked
    response = client.post(
        f"/orders/{order.number}/edit/", form_of(order, **{f"qty-{plate.pk}": "3"}), follow=True
    )
    assert "PLATE quantity 1 -&gt; 3" in response.content.decode()
    assert order.lines.get(sku="PLATE").quantity_allocated == 3

    # a stale form still naming the locked line: refused with the reason, nothing changes
    response = client.post(
        f"/orders/{order.number}/edit/", form_of(order, **{f"qty-{mug.pk}": "1"}), follow=True
    )
    assert "picking has started" in response.content.decode()
    assert order.lines.get(sku="MUG").quantity == 2


def test_cancel_lines_form_shows_the_refund_due(client, order):
    staff(client, MANAGER)
    plate = order.lines.get(sku="PLATE")
    response = client.post(
        f"/orders/{order.number}/cancel-lines/",
        {f"cancel-{plate.pk}": "1", "reason": "broken in the photo"},
        follow=True,
    )
    body = response.content.decode()
    assert "PLATE x1 cancelled; refund due 3.00 BRL" in body
    assert 'id="refund-due"' in body
    assert order.lines.get(sku="PLATE").quantity_cancelled == 1


def test_cancel_without_reason_is_a_form_error(client, order):
    staff(client, MANAGER)
    plate = order.lines.get(sku="PLATE")
    response = client.post(
        f"/orders/{order.number}/cancel-lines/", {f"cancel-{plate.pk}": "1"}, follow=True
    )
    assert "Say why the lines are cancelled" in response.content.decode()


def test_warehouse_staff_cannot_edit(client, order):
    staff(client, WAREHOUSE)
    response = client.post(f"/orders/{order.number}/edit/", form_of(order))
    assert response.status_code == 403


def test_order_held_to_add_an_item_is_edited_on_hold_then_approved(client):
    """The customer asked to add an item: the order waits on hold, the manager adds it
    from the review queue's "Edit" (the order page), then approves; both lines ship."""
    main = f.make_warehouse("MAIN", priority=1)
    mug, vase = f.make_product("MUG", price="7.50"), f.make_product("VASE", price="12.00")
    f.receive(mug, main, 10)
    f.receive(vase, main, 10)
    order = f.place([(mug, 1)], shipping_total="5.00")
    order_hold(order=order, reason="Customer asked to add an item")
    staff(client, MANAGER)

    queue = client.get("/review/").content.decode()
    assert f'href="/orders/{order.number}/#order-edit-form"' in queue
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="order-edit-form"' in page  # on hold, still editable
    response = client.post(
        f"/orders/{order.number}/edit/",
        form_of(order, **{"add-sku": "VASE", "add-quantity": "2"}),
        follow=True,
    )
    assert "added VASE x2 at 12.00" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.subtotal, order.total) == (
        Order.Status.ON_HOLD,
        Decimal("31.50"),
        Decimal("36.50"),
    )
    assert f.quantities(vase, main) == (10, 0)  # held: nothing reserved yet

    client.post(f"/review/{order.number}/approve/")

    order.refresh_from_db()
    assert (order.status, order.allocation_status) == (
        Order.Status.CONFIRMED,
        Order.AllocationStatus.ALLOCATED,
    )
    assert f.quantities(mug, main) == (10, 1) and f.quantities(vase, main) == (10, 2)
    [shipment] = order.shipments.all()
    assert sorted(shipment.lines.values_list("order_line__sku", "quantity")) == [
        ("MUG", 1),
        ("VASE", 2),
    ]
    kinds = list(order.events.order_by("pk").values_list("kind", flat=True))
    assert kinds.index(OrderEvent.Kind.EDITED) < kinds.index(OrderEvent.Kind.CONFIRMED)
    f.assert_ledger_clean()


def form_key(client, order, form_id) -> str:
    page = client.get(f"/orders/{order.number}/").content.decode()
    start = page.index(f'id="{form_id}"')
    marker = 'name="form-key" value="'
    at = page.index(marker, start) + len(marker)
    return page[at : page.index('"', at)]


def test_a_double_click_on_save_adds_the_line_once(client, order):
    staff(client, MANAGER)
    f.make_product("VASE", price="12.00")
    form = form_of(
        order,
        **{"add-sku": "VASE", "add-quantity": "1"},
        **{"form-key": form_key(client, order, "order-edit-form")},
    )

    first = client.post(f"/orders/{order.number}/edit/", form, follow=True)
    again = client.post(f"/orders/{order.number}/edit/", form, follow=True)

    assert "added VASE x1 at 12.00" in first.content.decode()
    assert "This form was saved already" in again.content.decode()
    assert order.lines.filter(sku="VASE").count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.EDITED).count() == 1
    # the page after the save has a new key: the next edit goes through
    form["form-key"] = form_key(client, order, "order-edit-form")
    client.post(f"/orders/{order.number}/edit/", form)
    assert order.lines.filter(sku="VASE").count() == 2


def test_a_resubmitted_cancel_cancels_once_and_a_refused_one_keeps_no_key(client, order):
    staff(client, MANAGER)
    mug = order.lines.get(sku="MUG")
    key = form_key(client, order, "cancel-lines-form")
    refused = {f"cancel-{mug.pk}": "1", "reason": "", "form-key": key}
    assert (
        "Say why"
        in client.post(
            f"/orders/{order.number}/cancel-lines/", refused, follow=True
        ).content.decode()
    )

    form = {**refused, "reason": "asked by phone"}  # the same page, fixed and sent twice
    client.post(f"/orders/{order.number}/cancel-lines/", form)
    again = client.post(f"/orders/{order.number}/cancel-lines/", form, follow=True)

    assert "This form was saved already" in again.content.decode()
    mug.refresh_from_db()
    assert (mug.quantity_cancelled, mug.quantity_allocated) == (1, 1)
    f.assert_ledger_clean()
