"""Placing a staff draft: the order it gives is the order the API gives for the same
content (fields, lines, timeline, webhooks, auto-confirm outcome, ledger rows), the
payment state is recorded as placement records it, placing twice gives one order, and
an incomplete draft places nothing and says what is missing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import StockMovement
from kernel.models import WebhookSubscription
from orders.models import Channel, Customer, Order, Payment
from tests import factories as f
from tests.api.conftest import INTEGRATION, _client_for
from tests.channels.conftest import Receiver
from tests.intake.drafts_support import Desk
from tests.orders.test_placement_parity import ADDRESS, EMAIL, LINES, SHIPPING, outcome

pytestmark = pytest.mark.django_db

RULES = {
    "auto_confirm": True,
    "auto_confirm_require_payment": False,
    "auto_confirm_max_total": Decimal("1000.00"),
}


@pytest.fixture
def world(db):
    wh = f.make_warehouse("BR-01", priority=1, country="BR", region="SP")
    for sku, _, price in LINES:
        f.receive(f.make_product(sku, price=price), wh, 20, reference="PO-1")
    f.channel("via-api", kind="api", **RULES)
    f.channel("phone", kind="phone", **RULES)
    receiver = Receiver()
    WebhookSubscription.objects.create(url=receiver.url, event_types=["*"])
    yield wh
    receiver.close()


@pytest.fixture
def desk(client):
    return Desk(client)


def fill_in(desk: Desk, **overrides):
    """Ana's order typed on the page: her details, the address, the lines by scan."""
    draft = desk.start()
    for sku, quantity, _ in LINES:
        assert desk.scan(draft, sku, str(quantity)).status_code == 200
    form = {
        "customer_email": EMAIL,
        "customer_name": "Ana Lima",
        **{f"ship_{k}": v for k, v in ADDRESS.items()},
        "shipping_total": SHIPPING,
        **overrides,
    }
    assert desk.save(draft, **form).status_code == 302
    return draft


def place_on_page(desk: Desk, draft) -> Order:
    response = desk.client.post(desk.url(draft), _form_of(draft, then="place"))
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get(channel__code="phone", external_id=f"DRAFT-{draft.pk}")
    assert response["Location"] == reverse("orders:detail", args=[order.number])
    return order


def _form_of(draft, **extra) -> dict:
    draft.refresh_from_db()
    address = draft.shipping_address
    return {
        "customer_email": draft.customer_email,
        "customer_name": draft.customer_name,
        "customer_phone": draft.customer_phone,
        **{f"ship_{k}": address.get(k, "") for k in ("name", "line1", "line2", "city")},
        **{f"ship_{k}": address.get(k, "") for k in ("region", "postcode", "country", "phone")},
        "currency": draft.currency,
        "shipping_method": draft.shipping_method,
        "shipping_total": str(draft.shipping_total),
        "financial_status": draft.financial_status,
        "payment_method": draft.payment_method,
        "payment_reference": draft.payment_reference,
        "notes": draft.notes,
        **extra,
    }


def place_by_api(external_id: str, placed_at, **extra) -> Order:
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
            "placed_at": placed_at.isoformat(),
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(number=response.json()["number"])


def test_a_placed_draft_is_the_order_the_api_places_for_the_same_content(world, desk):
    staff_order = place_on_page(desk, fill_in(desk))
    api_order = place_by_api("7001", staff_order.placed_at)

    staff, api = outcome(staff_order), outcome(api_order)
    assert staff == api
    assert staff["fields"]["status"] == "confirmed"
    assert staff["fields"]["money"][-1] == Decimal("59.70")
    assert staff["events"] == ["placed", "confirmed", "allocated"]
    assert staff["webhooks"] == ["order.created", "order.confirmed"]
    assert staff["ledger"] == [
        ("MUG-01", "BR-01", "reserve", 0, 1),
        ("TSHIRT-M", "BR-01", "reserve", 0, 2),
    ]
    assert staff_order.events.get(kind="placed").actor == desk.user.username
    assert staff_order.number.startswith("SO-")  # the one numbering
    assert staff_order.draft.placed_at is not None
    f.assert_ledger_clean()


def test_a_blocked_customer_is_held_with_the_failed_rule_as_through_the_api(world, desk):
    Customer.objects.create(
        email=EMAIL, name="Ana Lima", blocked=True, blocked_reason="chargebacks"
    )
    staff_order = place_on_page(desk, fill_in(desk))
    api_order = place_by_api("7002", staff_order.placed_at)

    staff = outcome(staff_order)
    assert staff == outcome(api_order)
    assert staff["fields"]["status"] == "on_hold"
    assert "chargebacks" in staff["fields"]["hold_reason"]
    assert staff["held_rules"] == [["customer"]]
    assert staff["ledger"] == [] and staff["shipments"] == []
    page = desk.client.get(reverse("orders:detail", args=[staff_order.number]))
    assert "on hold: Auto-confirm: customer" in page.content.decode()  # the flash
    f.assert_ledger_clean()


@pytest.mark.parametrize(
    ("state", "kind"), [("paid", Payment.Kind.CAPTURED), ("authorized", Payment.Kind.AUTHORIZED)]
)
def test_the_payment_state_is_recorded_as_placement_records_it(world, desk, state, kind):
    Channel.objects.filter(code="phone").update(auto_confirm_require_payment=True)
    draft = fill_in(desk, financial_status=state, payment_method="pix", payment_reference="E2E-778")
    order = place_on_page(desk, draft)
    assert order.financial_status == state
    assert order.status == "confirmed"  # the channel's payment rule passes
    payment = order.payments.get()
    assert (payment.kind, payment.amount, payment.currency) == (kind, Decimal("59.70"), "BRL")
    assert (payment.method, payment.reference) == ("pix", "E2E-778")


def test_a_pending_payment_is_held_where_the_channel_requires_payment(world, desk):
    Channel.objects.filter(code="phone").update(auto_confirm_require_payment=True)
    order = place_on_page(desk, fill_in(desk))
    assert (order.status, order.financial_status) == ("on_hold", "pending")
    assert not order.payments.exists()


def test_the_shipping_method_and_notes_go_on_the_order(world, desk):
    from fulfillment.models import Carrier, CarrierService, ShippingRate

    carrier = Carrier.objects.create(code="correios", name="Correios")
    pac = CarrierService.objects.create(carrier=carrier, code="pac", name="PAC")
    ShippingRate.objects.create(
        service=pac,
        country="BR",
        max_weight_grams=30_000,
        price="23.40",
        currency="BRL",
        transit_days=6,
    )
    draft = fill_in(desk, shipping_method="correios:pac", shipping_total="", notes="Gift wrap")
    draft.refresh_from_db()
    assert draft.shipping_total == Decimal("23.40")  # blank price: the method's rate
    desk.client.post(desk.url(draft), _form_of(draft, shipping_total="0"))
    draft.refresh_from_db()
    assert draft.shipping_total == 0  # a price typed for the same method is kept
    desk.client.post(desk.url(draft), _form_of(draft, shipping_method=""))
    desk.client.post(desk.url(draft), _form_of(draft, shipping_method="correios:pac"))
    draft.refresh_from_db()
    assert draft.shipping_total == Decimal("23.40")  # method chosen, price untouched: its rate

    order = place_on_page(desk, draft)
    assert order.shipping_total == Decimal("23.40")
    assert order.notes == "Shipping method: correios:pac\nGift wrap"


def test_placing_twice_gives_one_order(world, desk):
    draft = fill_in(desk)
    first = desk.place(draft)
    second = desk.place(draft)

    order = Order.objects.get(channel__code="phone")
    assert first["Location"] == second["Location"] == reverse("orders:detail", args=[order.number])
    assert (
        "already placed as " + order.number in desk.client.get(second["Location"]).content.decode()
    )
    assert order.events.filter(kind="placed").count() == 1
    assert StockMovement.objects.filter(reference__startswith="SH-").count() == 2  # two lines
    # the draft is the order now: its page and its edits lead there, and change nothing
    assert desk.client.get(desk.url(draft))["Location"] == first["Location"]
    desk.scan(draft, "MUG-01")
    draft.refresh_from_db()
    assert [line["quantity"] for line in draft.lines] == [2, 1]
    f.assert_ledger_clean()


def _assert_nothing_placed(draft) -> None:
    draft.refresh_from_db()
    assert draft.placed_order is None
    assert Order.objects.count() == 0
    assert not StockMovement.objects.exclude(kind="receipt").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ship_line1": "", "ship_city": ""}, "Address: This field is required."),
        ({"ship_postcode": ""}, "Postcode: This field is required."),
        ({"ship_country": "Brazil"}, "Country"),
        ({"customer_email": ""}, "Customer e-mail: Pick a customer or enter their e-mail."),
        ({"customer_email": "ana-at-example"}, "is not a valid e-mail"),
        ({"customer_name": ""}, "Customer name: Enter the customer"),
    ],
)
def test_an_incomplete_draft_places_nothing_and_says_what_is_missing(
    world, desk, overrides, message
):
    draft = fill_in(desk)
    response = desk.client.post(desk.url(draft), _form_of(draft, then="place", **overrides))
    body = response.content.decode()
    assert response.status_code in (200, 400)
    assert "Not placed" in body or "Not saved" in body
    assert message in body
    _assert_nothing_placed(draft)


def test_a_draft_without_lines_places_nothing(world, desk):
    draft = desk.start()
    desk.save(draft, customer_email=EMAIL, customer_name="Ana Lima")
    response = desk.place(draft)
    assert response.status_code == 400
    assert "Lines: Add at least one line" in response.content.decode()
    _assert_nothing_placed(draft)


def test_an_sku_gone_since_it_was_added_places_nothing(world, desk):
    from inventory.models import Product

    draft = fill_in(desk)
    Product.objects.filter(sku="MUG-01").update(active=False)
    draft.refresh_from_db()
    draft.lines = [*draft.lines, {"sku": "GONE-1", "quantity": 1, "unit_price": "1.00"}]
    draft.save()
    response = desk.place(draft)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Line 2 sku: SKU MUG-01 is inactive." in body
    assert "Line 3 sku: Unknown SKU &#x27;GONE-1&#x27;." in body
    _assert_nothing_placed(draft)


def test_the_staff_channel_is_created_when_missing(db, desk):
    Channel.objects.filter(code="phone").delete()
    desk.start()
    channel = Channel.objects.get(code="phone")
    assert (channel.kind, channel.auto_confirm) == ("phone", True)
