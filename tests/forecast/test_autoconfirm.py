"""Automatic confirmation rules at intake, the hold reasons and the review queue."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.services import order_place_and_confirm
from orders import autoconfirm
from orders.models import Channel, Customer, Order, OrderEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ana Lima",
    "line1": "Rua A 1",
    "city": "Campinas",
    "region": "SP",
    "postcode": "13023-000",
    "country": "BR",
}


@pytest.fixture
def shop(db):
    sp = f.make_warehouse("SP")
    tee = f.make_product("TEE", price="50.00")
    f.receive(tee, sp, 100)
    channel = Channel.objects.create(
        code="shop",
        name="Shop",
        auto_confirm=True,
        auto_confirm_max_total=Decimal("500.00"),
        auto_confirm_max_quantity=5,
    )
    return channel, tee


def intake(channel, tee, *, quantity=1, address=None, email="ana@example.com", paid="paid"):
    order, created = order_place_and_confirm(
        channel=channel,
        external_id=f"X-{Order.objects.count() + 1}",
        customer={"email": email, "name": "Ana"},
        shipping_address=ADDRESS if address is None else address,
        currency="BRL",
        lines=[{"sku": tee.sku, "quantity": quantity}],
        financial_status=paid,
    )
    assert created
    order.refresh_from_db()
    return order


def failed_codes(order) -> list[str]:
    event = order.events.get(kind=OrderEvent.Kind.HELD)
    return [r["code"] for r in event.data["auto_confirm"] if not r["passed"]]


def test_an_order_passing_every_rule_is_confirmed_and_routed(shop):
    order = intake(*shop)
    assert (order.status, order.allocation_status) == ("confirmed", "allocated")
    assert order.shipments.count() == 1


def test_the_intake_order_object_reads_fresh_rows_after_placement(shop):
    """Intake reads the new lines from memory while it places and routes; the order it
    returns must not keep that snapshot, or a later service using the same object (the
    demo seeder does) would see the lines as they were at placement."""
    from fulfillment.services import shipment_ship

    channel, tee = shop
    order, _ = order_place_and_confirm(
        channel=channel,
        external_id="FRESH-1",
        customer={"email": "ana@example.com"},
        shipping_address=ADDRESS,
        currency="BRL",
        lines=[{"sku": tee.sku, "quantity": 2}],
        financial_status="paid",
    )
    shipment_ship(shipment=order.shipments.get(), service="counter", actor="test")
    assert [line.quantity_shipped for line in order.lines.all()] == [2]
    assert [s.status for s in order.shipments.all()] == ["shipped"]
    assert "shipped" in [e.kind for e in order.events.all()]


@pytest.mark.parametrize("paid", ["paid", "authorized"])
def test_payment_rule_passes_paid_or_authorized(shop, paid):
    assert intake(*shop, paid=paid).status == "confirmed"


def test_payment_rule_fails_pending_and_the_hold_names_it(shop):
    order = intake(*shop, paid="pending")
    assert order.status == "on_hold"
    assert order.hold_reason == "Auto-confirm: payment (payment is pending)"
    assert failed_codes(order) == ["payment"]
    assert order.shipments.count() == 0
    held = order.events.get(kind=OrderEvent.Kind.HELD)
    assert held.actor == "auto-confirm" and "payment" in held.message


def test_payment_rule_can_be_switched_off_per_channel(shop):
    channel, tee = shop
    channel.auto_confirm_require_payment = False
    channel.save()
    assert intake(channel, tee, paid="pending").status == "confirmed"


def test_sku_rule_passes_known_skus_and_fails_an_inactive_one(shop):
    channel, tee = shop
    order = f.place([(tee, 1)], channel_code="shop", financial_status="paid")
    assert autoconfirm.rule_skus_known(order).passed
    tee.active = False
    tee.save()
    order = Order.objects.get(pk=order.pk)
    result = autoconfirm.rule_skus_known(order)
    assert not result.passed and result.detail == "unknown or inactive SKU TEE"


def test_address_rule(shop):
    assert intake(*shop).status == "confirmed"
    order = intake(*shop, address={**ADDRESS, "postcode": "", "line1": ""})
    assert order.status == "on_hold"
    assert failed_codes(order) == ["address"]
    assert "address (missing line1, postcode)" in order.hold_reason
    # no postcodes in Hong Kong: complete without one
    hk = intake(*shop, address={**ADDRESS, "postcode": "", "country": "HK"})
    assert hk.status == "confirmed"


def test_total_limit_rule(shop):
    assert intake(*shop, quantity=5).status == "confirmed"  # 250.00 <= 500.00
    channel, tee = shop
    channel.auto_confirm_max_quantity = None
    channel.save()
    order = intake(channel, tee, quantity=11)  # 550.00
    assert failed_codes(order) == ["total"]
    assert "total (total 550.00 > 500.00 BRL)" in order.hold_reason


def test_quantity_limit_rule(shop):
    channel, tee = shop
    channel.auto_confirm_max_total = None
    channel.save()
    assert intake(channel, tee, quantity=5).status == "confirmed"
    order = intake(channel, tee, quantity=6)
    assert failed_codes(order) == ["quantity"]
    assert "quantity (TEE x6 > 5)" in order.hold_reason


def test_blocked_customer_rule(shop):
    assert intake(*shop, email="ok@example.com").status == "confirmed"
    Customer.objects.filter(email="ok@example.com").update(
        blocked=True, blocked_reason="chargebacks"
    )
    order = intake(*shop, email="ok@example.com")
    assert failed_codes(order) == ["customer"]
    assert "customer (ok@example.com is blocked (chargebacks))" in order.hold_reason


def test_several_failures_are_all_named(shop):
    channel, tee = shop
    order = intake(channel, tee, quantity=20, paid="pending", address={**ADDRESS, "city": ""})
    assert failed_codes(order) == ["payment", "address", "total", "quantity"]
    for word in ("payment", "address", "total", "quantity"):
        assert word in order.hold_reason


def test_channel_without_auto_confirm_leaves_orders_pending(shop):
    channel, tee = shop
    channel.auto_confirm = False
    channel.save()
    assert intake(channel, tee, paid="pending").status == "pending"


# --------------------------------------------------------------------------- queue


def _login(client, group):
    user = User.objects.create_user(group, password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_review_queue_lists_held_orders_with_their_failed_rules(shop, client):
    channel, tee = shop
    held = intake(channel, tee, paid="pending")
    by_hand = f.place([(tee, 1)], channel_code="shop")
    from orders.services import order_hold

    order_hold(order=by_hand, reason="call the customer first")
    _login(client, "manager")
    page = client.get("/review/").content.decode()
    assert held.number in page and by_hand.number in page
    assert "paid or authorized" in page and "payment is pending" in page
    assert "call the customer first" in page
    auto_only = client.get("/review/", {"source": "auto"}).content.decode()
    assert held.number in auto_only and by_hand.number not in auto_only


def test_approving_from_the_queue_confirms_and_routes(shop, client):
    held = intake(*shop, paid="pending")
    _login(client, "manager")
    response = client.post(f"/review/{held.number}/approve/")
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.allocation_status) == ("confirmed", "allocated")
    kinds = list(held.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds[kinds.index("held") :] == ["held", "released", "confirmed", "allocated"]


def test_cancelling_from_the_queue_needs_a_reason(shop, client):
    held = intake(*shop, paid="pending")
    _login(client, "manager")
    client.post(f"/review/{held.number}/cancel/", {"reason": ""})
    held.refresh_from_db()
    assert held.status == "on_hold"
    client.post(f"/review/{held.number}/cancel/", {"reason": "fraud check failed"})
    held.refresh_from_db()
    assert (held.status, held.cancel_reason) == ("cancelled", "fraud check failed")


def test_review_queue_is_for_managers_only(shop, client):
    held = intake(*shop, paid="pending")
    _login(client, "warehouse")
    assert client.get("/review/").status_code == 403
    assert client.post(f"/review/{held.number}/approve/").status_code == 403
    held.refresh_from_db()
    assert held.status == "on_hold"
