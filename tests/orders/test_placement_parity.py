"""One logical order, every way in: the API, the admin's CSV import, the imports page's
CSV job, a Shopify webhook, a WooCommerce webhook and a staff placement end the same:
the same fields and lines, the same timeline, the same outgoing webhooks, the same
auto-confirm outcome (confirmed and routed, or held naming the failed rules) and the
same ledger rows."""

import copy
from datetime import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fulfillment.services import order_place_and_confirm
from inventory.models import StockMovement
from kernel.models import WebhookEvent, WebhookSubscription
from orders.models import Customer, Order
from tests import factories as f
from tests.channels.conftest import (
    SHOPIFY_SECRET,
    WOO_SECRET,
    Platform,
    Receiver,
    fixture,
)
from tests.csvio.conftest import ORDER_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

EMAIL = "ana.lima@example.com"
ADDRESS = {
    "name": "Ana Lima",
    "line1": "Rua A 1",
    "line2": "Casa 2",
    "city": "Campinas",
    "region": "SP",
    "postcode": "13023-000",
    "country": "BR",
}
LINES = [("TSHIRT-M", 2, "19.90"), ("MUG-01", 1, "9.90")]
SHIPPING = "10.00"
PLACED_AT = "2026-11-26T16:28:02+00:00"
TOTAL = "59.70"  # 2 x 19.90 + 9.90 + 10.00 shipping, no tax
CHANNELS = ("via-api", "csv-admin", "csv-page", "shopify-eu", "woo", "staff")


@pytest.fixture
def world(db):
    wh = f.make_warehouse("BR-01", priority=1, country="BR", region="SP")
    for sku, _, price in LINES:
        f.receive(f.make_product(sku, price=price), wh, 20, reference="PO-1")
    secrets = {"shopify-eu": SHOPIFY_SECRET, "woo": WOO_SECRET}
    for code in CHANNELS:
        f.channel(
            code,
            kind="web_store",
            auto_confirm=True,
            auto_confirm_require_payment=False,
            auto_confirm_max_total=Decimal("1000.00"),
            webhook_secret=secrets.get(code, ""),
        )
    receiver = Receiver()
    WebhookSubscription.objects.create(url=receiver.url, event_types=["*"])
    yield wh
    receiver.close()


def staff(group: str) -> User:
    user, _ = User.objects.get_or_create(username=f"{group}-user")
    user.groups.add(Group.objects.get(name=group))
    return user


# --------------------------------------------------------------------------- entry points


def via_api(external_id: str, client) -> None:
    from tests.api.conftest import INTEGRATION, _client_for

    api = _client_for("shop-integration", INTEGRATION)
    response = api.post(
        "/api/v1/orders/",
        {
            "channel": "via-api",
            "external_id": external_id,
            "customer": {"email": EMAIL, "name": "Ana Lima"},
            "shipping_address": ADDRESS,
            "currency": "BRL",
            "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in LINES],
            "shipping_total": SHIPPING,
            "placed_at": PLACED_AT,
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def order_csv(channel: str, external_id: str) -> bytes:
    rows = []
    for sku, quantity, price in LINES:
        values = {
            "channel": channel,
            "external_id": external_id,
            "placed_at": PLACED_AT,
            "customer_email": EMAIL,
            "customer_name": "Ana Lima",
            **{f"ship_{k}": v for k, v in ADDRESS.items()},
            "currency": "BRL",
            "sku": sku,
            "quantity": quantity,
            "unit_price": price,
            "shipping_total": SHIPPING,
        }
        rows.append([values[column] for column in ORDER_HEADER])
    return csv_bytes(ORDER_HEADER, rows)


def via_admin_import(external_id: str, client) -> None:
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw-123456"))
    preview = client.post(
        "/admin/orders/order/import/",
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("o.csv", order_csv("csv-admin", external_id)),
        },
    )
    assert "confirm_form" in preview.context, preview.content.decode()[:3000]
    form = preview.context["confirm_form"]
    data = {
        name: form.initial.get(name, field.initial)
        for name, field in form.fields.items()
        if form.initial.get(name, field.initial) is not None
    }
    done = client.post("/admin/orders/order/process_import/", data)
    assert done.status_code == 302, done.content.decode()[:3000]


def via_imports_page(external_id: str, client, capture) -> None:
    client.force_login(staff("manager"))
    with capture(execute=True):
        response = client.post(
            reverse("imports:list"),
            {
                "kind": "orders",
                "file": SimpleUploadedFile(
                    "orders.csv", order_csv("csv-page", external_id), "text/csv"
                ),
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]


def shopify_payload(external_id: str) -> dict:
    payload = copy.deepcopy(fixture("shopify_orders_create.json"))
    template = payload["line_items"][0]
    payload.update(
        id=int(external_id),
        name=f"#{external_id}",
        email=EMAIL,
        contact_email=EMAIL,
        phone=None,
        currency="BRL",
        presentment_currency="BRL",
        financial_status="pending",
        note=None,
        total_tax="0.00",
        current_total_tax="0.00",
        total_price=TOTAL,
        current_total_price=TOTAL,
        created_at=PLACED_AT,
        processed_at=PLACED_AT,
        line_items=[
            {
                **copy.deepcopy(template),
                "id": n,
                "sku": sku,
                "title": sku,
                "name": sku,
                "quantity": quantity,
                "current_quantity": quantity,
                "price": price,
            }
            for n, (sku, quantity, price) in enumerate(LINES, 1)
        ],
        shipping_lines=[{"id": 1, "title": "Flat", "price": SHIPPING, "code": "flat"}],
        refunds=[],
    )
    payload["customer"].update(first_name="Ana", last_name="Lima", email=EMAIL, phone=None)
    payload["shipping_address"].update(
        name="Ana Lima",
        first_name="Ana",
        last_name="Lima",
        address1=ADDRESS["line1"],
        address2=ADDRESS["line2"],
        city=ADDRESS["city"],
        province=ADDRESS["region"],
        province_code=ADDRESS["region"],
        zip=ADDRESS["postcode"],
        country="Brazil",
        country_code="BR",
        phone=None,
    )
    return payload


def via_shopify(external_id: str, client) -> None:
    response = Platform(client).shopify(shopify_payload(external_id), channel="shopify-eu")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processed", response.json()


def woo_payload(external_id: str) -> dict:
    payload = copy.deepcopy(fixture("woocommerce_order_created.json"))
    template = payload["line_items"][0]
    payload.update(
        id=int(external_id),
        number=external_id,
        status="pending",
        currency="BRL",
        date_created_gmt=PLACED_AT[:19],
        shipping_total=SHIPPING,
        total_tax="0.00",
        cart_tax="0.00",
        total=TOTAL,
        customer_note="",
        line_items=[
            {**copy.deepcopy(template), "id": n, "sku": sku, "name": sku, "quantity": quantity}
            | {
                "price": float(price),
                # WooCommerce's line amounts: before (subtotal) and after (total) discounts
                "subtotal": str(Decimal(price) * quantity),
                "total": str(Decimal(price) * quantity),
                "subtotal_tax": "0.00",
                "total_tax": "0.00",
                "taxes": [],
            }
            for n, (sku, quantity, price) in enumerate(LINES, 1)
        ],
    )
    payload["billing"].update(first_name="Ana", last_name="Lima", email=EMAIL, phone="")
    payload["shipping"].update(
        first_name="Ana",
        last_name="Lima",
        address_1=ADDRESS["line1"],
        address_2=ADDRESS["line2"],
        city=ADDRESS["city"],
        state=ADDRESS["region"],
        postcode=ADDRESS["postcode"],
        country="BR",
        phone="",
    )
    return payload


def via_woocommerce(external_id: str, client) -> None:
    response = Platform(client).woo(woo_payload(external_id), channel="woo")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processed", response.json()


def via_staff(external_id: str, client) -> None:
    order_place_and_confirm(
        channel=f.channel("staff"),
        external_id=external_id,
        customer={"email": EMAIL, "name": "Ana Lima"},
        shipping_address=ADDRESS,
        currency="BRL",
        lines=[{"sku": s, "quantity": q, "unit_price": p} for s, q, p in LINES],
        shipping_total=SHIPPING,
        placed_at=datetime.fromisoformat(PLACED_AT),
        actor=staff("manager"),
    )


ENTRY_POINTS = {
    "via-api": via_api,
    "csv-admin": via_admin_import,
    "csv-page": via_imports_page,
    "shopify-eu": via_shopify,
    "woo": via_woocommerce,
    "staff": via_staff,
}


# --------------------------------------------------------------------------- outcome


def outcome(order: Order) -> dict:
    """What a user sees of a placed order, without what differs by entry point by
    design (number, channel, external id, actor names, timestamps of now)."""
    events = list(order.events.order_by("created_at", "id"))
    held = [e for e in events if e.kind == "held"]
    shipments = list(order.shipments.order_by("pk"))
    numbers = [s.number for s in shipments]
    return {
        "fields": {
            "status": order.status,
            "hold_reason": order.hold_reason,
            "allocation_status": order.allocation_status,
            "fulfillment_status": order.fulfillment_status,
            "financial_status": order.financial_status,
            "currency": order.currency,
            "money": (order.subtotal, order.shipping_total, order.tax_total, order.total),
            "customer": (order.customer.email, order.customer.name),
            "address": tuple(getattr(order, f"ship_{k}") for k in ADDRESS),
            "placed_at": order.placed_at,
            "ship_by": order.ship_by,
            "confirmed": order.confirmed_at is not None,
            "notes": order.notes,
            "intake_hash": order.intake_hash,
        },
        "lines": [
            (line.sku, line.name, line.quantity, line.unit_price, line.quantity_allocated)
            for line in order.lines.order_by("pk")
        ],
        "events": [e.kind for e in events],
        "held_rules": [
            sorted(r["code"] for r in e.data.get("auto_confirm", []) if not r["passed"])
            for e in held
        ],
        "webhooks": [
            e.event_type
            for e in WebhookEvent.objects.order_by("id")
            if e.payload.get("number") == order.number
        ],
        "shipments": [s.warehouse.code for s in shipments],
        "ledger": sorted(
            (m.product.sku, m.warehouse.code, m.kind, m.on_hand_delta, m.reserved_delta)
            for m in StockMovement.objects.filter(reference__in=numbers)
        ),
    }


def place_everywhere(client, capture) -> dict[str, dict]:
    results = {}
    for n, (code, enter) in enumerate(ENTRY_POINTS.items(), 1):
        external_id = str(7000 + n)
        if enter is via_imports_page:
            enter(external_id, client, capture)
        else:
            enter(external_id, client)
        client.logout()
        order = Order.objects.get(channel__code=code, external_id=external_id)
        results[code] = outcome(order)
    return results


def assert_same(results: dict[str, dict]) -> dict:
    reference = results["via-api"]
    differences = [
        f"{code} differs from the API in {part}: {result[part]!r} != {reference[part]!r}"
        for code, result in results.items()
        for part in reference
        if result[part] != reference[part]
    ]
    assert not differences, "\n".join(differences)
    return reference


def test_one_order_ends_the_same_whichever_way_it_comes_in(
    world, client, django_capture_on_commit_callbacks
):
    result = assert_same(place_everywhere(client, django_capture_on_commit_callbacks))

    assert result["fields"]["status"] == "confirmed"
    assert result["fields"]["allocation_status"] == "allocated"
    assert result["events"] == ["placed", "confirmed", "allocated"]
    assert result["webhooks"] == ["order.created", "order.confirmed"]
    assert result["shipments"] == ["BR-01"]
    assert result["ledger"] == [
        ("MUG-01", "BR-01", "reserve", 0, 1),
        ("TSHIRT-M", "BR-01", "reserve", 0, 2),
    ]
    assert result["lines"] == [
        ("TSHIRT-M", "Product TSHIRT-M", 2, Decimal("19.90"), 2),
        ("MUG-01", "Product MUG-01", 1, Decimal("9.90"), 1),
    ]
    f.assert_ledger_clean()


def test_a_blocked_customer_over_the_limit_is_held_with_its_failed_rules_everywhere(
    world, client, django_capture_on_commit_callbacks
):
    from orders.models import Channel

    Customer.objects.create(
        email=EMAIL, name="Ana Lima", blocked=True, blocked_reason="chargebacks"
    )
    Channel.objects.update(auto_confirm_max_total=Decimal("50.00"))

    result = assert_same(place_everywhere(client, django_capture_on_commit_callbacks))

    assert result["fields"]["status"] == "on_hold"
    assert result["fields"]["confirmed"] is False
    assert result["fields"]["hold_reason"].startswith("Auto-confirm: ")
    assert "chargebacks" in result["fields"]["hold_reason"]
    assert result["events"] == ["placed", "held"]
    assert result["held_rules"] == [["customer", "total"]]
    assert result["webhooks"] == ["order.created", "order.on_hold"]
    assert result["shipments"] == [] and result["ledger"] == []
    assert [line[-1] for line in result["lines"]] == [0, 0]  # nothing reserved
    f.assert_ledger_clean()


def test_an_intake_hold_released_later_meets_the_same_rules_and_names_them(world, client):
    """A webhook order held for an unknown SKU, fixed once the product exists: released,
    it meets the auto-confirm rules as a new order would, and the hold lists them."""
    from intake.inbound.services import intake_reprocess
    from intake.models import IntakeDelivery

    Customer.objects.create(
        email=EMAIL, name="Ana Lima", blocked=True, blocked_reason="chargebacks"
    )
    payload = shopify_payload("7100")
    payload["line_items"][1]["sku"] = "POSTER-XL"
    Platform(client).shopify(payload, channel="shopify-eu")
    order = Order.objects.get(channel__code="shopify-eu", external_id="7100")
    assert order.hold_reason.startswith("Intake: ")
    f.receive(f.make_product("POSTER-XL", price="9.90"), world, 5)

    intake_reprocess(delivery=IntakeDelivery.objects.get())

    order.refresh_from_db()
    assert order.status == "on_hold" and order.hold_reason.startswith("Auto-confirm: ")
    held = order.events.filter(kind="held").order_by("id").last()
    failed = [r["code"] for r in held.data["auto_confirm"] if not r["passed"]]
    assert failed == ["customer"]
    assert order.lines.filter(quantity_allocated__gt=0).count() == 0
    f.assert_ledger_clean()
