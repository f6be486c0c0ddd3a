"""Staff edits and partial line cancels reach the platform the order came from, after
commit, over the channel outbox (retries, throttling, refusals kept and shown)."""

import pytest

from fulfillment.services import order_cancel_lines, order_edit
from intake.models import ChannelOutbox
from intake.selectors import sync_overview
from intake.sync import wiring
from intake.sync.listings import channel_link_listings
from intake.sync.outbound import channel_outbox_deliver_due
from orders.models import Channel, OrderLine
from tests import factories as f

pytestmark = pytest.mark.django_db

SKUS = ("MUG-01", "LAMP-01", "PEN-01")  # PEN-01 is not on the order yet
NEW_ADDRESS = {
    "name": "Ana Lima Souza",
    "line1": "Avenida Paulista 1000",
    "city": "Sao Paulo",
    "region": "SP",
    "postcode": "01310-100",
    "country": "BR",
}


@pytest.fixture
def products(warehouses):
    sp, _ = warehouses
    made = {sku: f.make_product(sku) for sku in (*SKUS, "GIFT-01")}
    for product in made.values():
        f.receive(product, sp, 20)
    return made


def place(channel, products, external_id):
    order = f.place(
        [(products["MUG-01"], 2), (products["LAMP-01"], 1)],
        channel_code=channel.code,
        external_id=external_id,
        financial_status="paid",
    )
    return f.confirm(order)


@pytest.fixture
def shopify_order(fake_shopify, shopify_channel, products):
    for n, sku in enumerate(SKUS, start=1):
        fake_shopify.add_variant(sku, n)
    channel_link_listings(channel=shopify_channel)  # GIFT-01 stays unlinked
    fake_shopify.add_order("5001", {"legacyResourceId": "5001", "updatedAt": ""}, [])
    fake_shopify.add_line_item("5001", "MUG-01", 2)
    fake_shopify.add_line_item("5001", "LAMP-01", 1)
    return place(shopify_channel, products, "5001")


@pytest.fixture
def woo_order(fake_woo, woo_channel, products):
    fake_woo.add_product(41, "MUG-01")
    fake_woo.add_product(42, "LAMP-01", type_="variable")
    fake_woo.add_variation(42, 421, "LAMP-01")
    fake_woo.add_product(43, "PEN-01")
    channel_link_listings(channel=woo_channel)
    fake_woo.orders[7001] = {"id": 7001, "status": "processing", "date_modified_gmt": ""}
    fake_woo.add_line_item(7001, "MUG-01", 2)
    fake_woo.add_line_item(7001, "LAMP-01", 1)
    return place(woo_channel, products, "7001")


def line(order, sku):
    return OrderLine.objects.get(order=order, sku=sku)


def edit(capture, **kw):
    with capture(execute=True):
        return order_edit(**kw)


def roots(store):
    """The GraphQL root fields called, in order (orderEdit* and orderUpdate only)."""
    names = ("orderEditBegin", "orderEditSetQuantity", "orderEditAddVariant")
    names += ("orderEditCommit", "orderUpdate")
    out = []
    for r in store.requests:
        query = (r["body"] or {}).get("query") or ""
        out += [n for n in names if f"{n}(" in query]
    return out


def test_shopify_edit_sends_begin_set_quantity_commit_and_the_order_changes(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    order = shopify_order
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 3}],
        add=[{"sku": "PEN-01", "quantity": 2}],
    )

    assert roots(fake_shopify) == [
        "orderEditBegin",
        "orderEditSetQuantity",
        "orderEditAddVariant",
        "orderEditCommit",
    ]
    bodies = [
        r["body"]["variables"] for r in fake_shopify.requests if "orderEdit" in str(r["body"])
    ]
    assert bodies[0] == {"id": "gid://shopify/Order/5001"}
    calc = "gid://shopify/CalculatedOrder/1"
    assert bodies[1] == {
        "id": calc,
        "lineItemId": "gid://shopify/CalculatedLineItem/9001",
        "quantity": 3,
        "restock": True,
    }
    assert bodies[2]["id"] == calc and bodies[2]["quantity"] == 2
    assert bodies[2]["variantId"] == "gid://shopify/ProductVariant/500003"
    assert bodies[3]["id"] == calc
    assert fake_shopify.quantities("5001") == {"MUG-01": 3, "LAMP-01": 1, "PEN-01": 2}
    row = ChannelOutbox.objects.get(kind="edit")
    assert row.status == "sent" and row.remote_id.startswith("gid://shopify/Order/5001")


def test_shopify_address_change_sends_order_update(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    edit(django_capture_on_commit_callbacks, order=shopify_order, address=NEW_ADDRESS)

    assert roots(fake_shopify) == ["orderUpdate"]
    assert fake_shopify.shipping_addresses["5001"] == {
        "firstName": "Ana",
        "lastName": "Lima Souza",
        "address1": "Avenida Paulista 1000",
        "address2": "",
        "city": "Sao Paulo",
        "zip": "01310-100",
        "countryCode": "BR",
        "phone": "",
        "provinceCode": "SP",
    }
    assert ChannelOutbox.objects.get(kind="edit").status == "sent"


def test_woocommerce_edit_puts_the_changed_line_items_and_the_address(
    fake_woo, woo_order, django_capture_on_commit_callbacks
):
    order = woo_order
    mug, lamp = fake_woo.orders[7001]["line_items"]
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 4}],
        remove=[line(order, "LAMP-01").pk],
        add=[{"sku": "PEN-01", "quantity": 1}],
        address=NEW_ADDRESS,
    )

    (put,) = fake_woo.order_puts
    assert put["line_items"] == [
        {"id": mug["id"], "quantity": 4},
        {"id": lamp["id"], "quantity": 0},
        {"product_id": 43, "quantity": 1},
    ]
    assert put["shipping"]["address_1"] == "Avenida Paulista 1000"
    assert put["shipping"]["first_name"] == "Ana" and put["shipping"]["state"] == "SP"
    assert fake_woo.quantities(7001) == {"MUG-01": 4, "PEN-01": 1}
    assert ChannelOutbox.objects.get(kind="edit").status == "sent"


def test_throttled_edit_is_retried_and_sent(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    Channel.objects.filter(code="shopify-eu").update(push_stock=False)  # only the edit talks
    wiring.forget_cache()
    fake_shopify.throttle_next(2)
    order = shopify_order
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 1}],
    )

    assert roots(fake_shopify).count("orderEditBegin") == 3  # two THROTTLED, then answered
    assert fake_shopify.quantities("5001")["MUG-01"] == 1
    assert ChannelOutbox.objects.get(kind="edit").status == "sent"


def test_shopify_user_error_is_recorded_and_our_edit_stands(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    order = shopify_order
    fake_shopify.line_items["5001"][0]["fulfilled"] = 2  # fulfilled in the Shopify admin
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 1}],
    )

    assert line(order, "MUG-01").quantity == 1  # our edit is kept
    row = ChannelOutbox.objects.get(kind="edit")
    assert row.status == "failed"
    assert "less than the 2 fulfilled" in row.last_error
    assert "orderEditCommit" not in roots(fake_shopify)
    assert fake_shopify.quantities("5001")["MUG-01"] == 2  # nothing committed there
    (overview,) = [r for r in sync_overview() if r["channel"].code == "shopify-eu"]
    assert [m.pk for m in overview["outbox_failures"]] == [row.pk]


def test_partial_line_cancel_reaches_shopify(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    order = shopify_order
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_lines(
            order=order, lines=[{"line": line(order, "MUG-01").pk, "quantity": 1}], reason="broken"
        )

    assert roots(fake_shopify) == ["orderEditBegin", "orderEditSetQuantity", "orderEditCommit"]
    assert fake_shopify.quantities("5001") == {"MUG-01": 1, "LAMP-01": 1}


def test_partial_line_cancel_reaches_woocommerce(
    fake_woo, woo_order, django_capture_on_commit_callbacks
):
    order = woo_order
    lamp = fake_woo.orders[7001]["line_items"][1]
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_lines(
            order=order, lines=[{"line": line(order, "LAMP-01").pk}], reason="out of stock"
        )

    (put,) = fake_woo.order_puts
    assert put == {"line_items": [{"id": lamp["id"], "quantity": 0}]}
    assert fake_woo.quantities(7001) == {"MUG-01": 2}


def test_unlisted_sku_and_shipping_service_are_recorded_not_sent(
    fake_shopify, shopify_order, django_capture_on_commit_callbacks
):
    order = shopify_order
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        add=[{"sku": "GIFT-01", "quantity": 1}],
        shipping_total="9.00",
    )

    row = ChannelOutbox.objects.get(kind="edit")
    assert row.status == "skipped"
    assert "GIFT-01 not sent: not linked to a Shopify listing" in row.note
    assert "shipping price 0.00 -> 9.00 not sent" in row.note
    assert roots(fake_shopify) == []
    assert line(order, "GIFT-01").quantity == 1


def test_staff_order_on_a_connected_channel_is_recorded_not_sent(
    fake_shopify, shopify_channel, products, django_capture_on_commit_callbacks
):
    order = place(shopify_channel, products, "DRAFT-7")
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 3}],
    )

    row = ChannelOutbox.objects.get(kind="edit")
    assert row.status == "skipped" and "was not placed on Shopify" in row.note
    assert roots(fake_shopify) == []


def test_edit_on_a_channel_without_a_platform_sends_nothing(
    fake_shopify, fake_woo, products, django_capture_on_commit_callbacks
):
    channel = Channel.objects.create(code="phone", name="Phone", push_fulfillments=True)
    order = place(channel, products, "991")
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 3}],
        address=NEW_ADDRESS,
    )

    assert line(order, "MUG-01").quantity == 3
    assert not ChannelOutbox.objects.exists()
    assert fake_shopify.requests == [] and fake_woo.requests == []


def test_woocommerce_down_keeps_the_edit_pending_then_sends_what_the_order_is_then(
    fake_woo, woo_order, django_capture_on_commit_callbacks, settings
):
    order = woo_order
    mug = fake_woo.orders[7001]["line_items"][0]
    Channel.objects.filter(code="woo-br").update(push_stock=False)  # only the edit talks
    wiring.forget_cache()
    fake_woo.fail_next(503, times=settings.OMS_CHANNEL_ATTEMPTS)
    edit(
        django_capture_on_commit_callbacks,
        order=order,
        quantities=[{"line": line(order, "MUG-01").pk, "quantity": 3}],
    )
    row = ChannelOutbox.objects.get(kind="edit")
    assert row.status == "pending" and "HTTP 503" in row.last_error and row.attempts == 1
    assert fake_woo.order_puts == []

    with django_capture_on_commit_callbacks(execute=False):  # a second edit, not yet sent
        order_edit(order=order, quantities=[{"line": line(order, "MUG-01").pk, "quantity": 5}])
    ChannelOutbox.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    channel_outbox_deliver_due()

    row.refresh_from_db()
    assert row.status == "sent"
    assert fake_woo.order_puts[0] == {"line_items": [{"id": mug["id"], "quantity": 5}]}
    assert fake_woo.quantities(7001)["MUG-01"] == 5
