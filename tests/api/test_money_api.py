"""Money through the API: each currency's own decimals, discounts, payments and the
refunds they bound."""

from decimal import Decimal

import pytest

from fulfillment.services import shipment_ship
from orders.models import Order
from returns.models import Refund
from returns.services import return_approve, return_receive, return_request
from tests import factories as f
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(db):
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    mug = f.make_product("MUG-01", price="9.90")
    f.receive(shirt, wh, 20)
    f.receive(mug, wh, 20)
    return shirt, mug


def test_a_kwd_order_keeps_three_decimals_through_the_api(api, stock):
    body = order_body(
        currency="KWD",
        lines=[{"sku": "TSHIRT-M", "quantity": 2, "unit_price": "1.235"}],
        shipping_total="0.500",
        tax_total="0.125",
    )

    created = api.post("/api/v1/orders/", body, format="json")

    assert created.status_code == 201, created.content
    fetched = api.get(f"/api/v1/orders/{created.json()['number']}/").json()
    for answer in (created.json(), fetched):
        assert answer["lines"][0]["unit_price"] == "1.235"
        assert (answer["subtotal"], answer["shipping_total"], answer["tax_total"]) == (
            "2.470",
            "0.500",
            "0.125",
        )
        assert answer["total"] == "3.095"
    order = Order.objects.get(number=fetched["number"])
    assert order.lines.get().unit_price == Decimal("1.235")  # not 1.24
    # the same body again is the same order: a replay, not a conflict
    again = api.post("/api/v1/orders/", body, format="json")
    assert again.status_code == 200 and again.json()["number"] == fetched["number"]


def test_amounts_are_rendered_with_the_currency_s_own_decimals(api, stock):
    created = api.post(
        "/api/v1/orders/",
        order_body(
            currency="JPY",
            lines=[{"sku": "TSHIRT-M", "quantity": 1, "unit_price": "1500"}],
            shipping_total="500",
        ),
        format="json",
    )
    assert created.status_code == 201, created.content
    answer = created.json()
    assert (answer["lines"][0]["unit_price"], answer["total"]) == ("1500", "2000")


@pytest.mark.parametrize(
    ("currency", "field", "overrides"),
    [
        (
            "JPY",
            "lines[0].unit_price",
            {"lines": [{"sku": "TSHIRT-M", "quantity": 1, "unit_price": "1500.5"}]},
        ),
        (
            "EUR",
            "lines[0].unit_price",
            {"lines": [{"sku": "TSHIRT-M", "quantity": 1, "unit_price": "19.905"}]},
        ),
        ("EUR", "shipping_total", {"shipping_total": "5.001"}),
        ("BRL", "tax_total", {"tax_total": "0.125"}),
    ],
)
def test_more_decimals_than_the_currency_has_is_a_400_naming_the_field(
    api, stock, currency, field, overrides
):
    response = api.post(
        "/api/v1/orders/", order_body(currency=currency, **overrides), format="json"
    )

    assert response.status_code == 400, response.content
    assert "decimal place" in response.json()[field][0]
    assert not Order.objects.exists()


def test_line_and_order_discounts_are_kept_and_the_total_is_what_was_charged(api, stock):
    body = order_body(
        lines=[
            {"sku": "TSHIRT-M", "quantity": 2, "unit_price": "19.90", "discount_total": "4.00"},
            {"sku": "MUG-01", "quantity": 1, "unit_price": "9.90"},
        ],
        discount_total="6.00",  # 4.00 on the shirts plus 2.00 shared over both lines
        shipping_total="5.00",
    )

    answer = api.post("/api/v1/orders/", body, format="json").json()

    assert (answer["subtotal"], answer["discount_total"], answer["total"]) == (
        "49.70",
        "6.00",
        "48.70",
    )
    lines = {line["sku"]: line for line in answer["lines"]}
    # the 2.00 shared in proportion to what is left of each line (35.80 and 9.90)
    assert (lines["TSHIRT-M"]["discount_total"], lines["TSHIRT-M"]["paid_total"]) == (
        "5.57",
        "34.23",
    )
    assert (lines["MUG-01"]["discount_total"], lines["MUG-01"]["paid_total"]) == ("0.43", "9.47")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {
                "lines": [
                    {
                        "sku": "TSHIRT-M",
                        "quantity": 1,
                        "unit_price": "19.90",
                        "discount_total": "19.91",
                    }
                ]
            },
            "lines[0].discount_total",
            "more than the line's value (19.90)",
        ),
        (
            {
                "lines": [
                    {
                        "sku": "TSHIRT-M",
                        "quantity": 1,
                        "unit_price": "19.90",
                        "discount_total": "5.00",
                    }
                ],
                "discount_total": "4.00",
            },
            "discount_total",
            "less than the lines' discounts",
        ),
        ({"discount_total": "39.81"}, "discount_total", "more than the lines' value"),
        ({"discount_total": "-1"}, "discount_total", "greater than or equal to 0"),
    ],
)
def test_a_discount_above_the_value_or_below_the_lines_is_a_400(
    api, stock, overrides, field, words
):
    response = api.post("/api/v1/orders/", order_body(**overrides), format="json")

    assert response.status_code == 400, response.content
    assert words in response.json()[field][0]
    assert not Order.objects.exists()


def test_payments_move_the_financial_status_and_bound_refunds(api, stock):
    number = api.post("/api/v1/orders/", order_body(), format="json").json()["number"]  # 44.80
    url = f"/api/v1/orders/{number}/payments/"

    r = api.post(url, {"kind": "authorized", "amount": "44.80", "method": "card"}, format="json")
    assert r.status_code == 201 and r.json()["financial_status"] == "authorized"
    r = api.post(url, {"kind": "captured", "amount": "20.00", "reference": "ch_1"}, format="json")
    assert r.json()["financial_status"] == "partially_paid"
    assert [p["kind"] for p in r.json()["payments"]] == ["authorized", "captured"]
    assert r.json()["events"][-1]["kind"] == "payment"

    # a refund over what was captured (not the order's total) is a conflict
    over = api.post(url, {"kind": "refunded", "amount": "20.01"}, format="json")
    assert over.status_code == 409, over.content
    assert "captured 20.00, refunded 0.00" in over.json()["detail"]
    assert over.json()["code"] == "conflict"
    # so is a capture above the total
    too_much = api.post(url, {"kind": "captured", "amount": "24.81"}, format="json")
    assert too_much.status_code == 409

    api.post(url, {"kind": "captured", "amount": "24.80"}, format="json")
    assert Order.objects.get(number=number).financial_status == "paid"
    r = api.post(url, {"kind": "refunded", "amount": "44.80"}, format="json")
    assert r.status_code == 201
    assert (r.json()["financial_status"], r.json()["refunded_total"]) == ("refunded", "44.80")


def test_a_payment_with_more_decimals_than_the_currency_is_a_400(api, stock):
    number = api.post("/api/v1/orders/", order_body(), format="json").json()["number"]
    r = api.post(
        f"/api/v1/orders/{number}/payments/", {"kind": "captured", "amount": "1.005"}, format="json"
    )
    assert r.status_code == 400 and "decimal place" in r.json()["amount"][0]


@pytest.fixture
def returned(api, stock):
    """A paid, discounted, delivered order (two shirts at 19.90 with 4.00 off, tax 4.00,
    shipping 5.00: 44.80 captured) with one shirt returned and received."""
    shirt, _ = stock
    body = order_body(
        lines=[{"sku": "TSHIRT-M", "quantity": 2, "unit_price": "19.90", "discount_total": "4.00"}],
        tax_total="4.00",
        financial_status="paid",
    )
    number = api.post("/api/v1/orders/", body, format="json").json()["number"]
    order = f.confirm(Order.objects.get(number=number))
    shipment_ship(shipment=order.shipments.get())
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    return_approve(return_request=rma)
    return_receive(return_request=rma)
    return rma


def test_a_return_refunds_the_paid_price_by_default_tax_and_shipping_only_when_chosen(
    api, returned
):
    url = f"/api/v1/returns/{returned.number}/refund/"

    r = api.post(url, {}, format="json")

    assert r.status_code == 200, r.content
    refund = r.json()["refunds"][0]
    # one of two shirts: (39.80 - 4.00) / 2, no tax, no shipping
    assert (refund["amount"], refund["items_amount"], refund["tax_amount"]) == (
        "17.90",
        "17.90",
        "0.00",
    )
    assert refund["shipping_amount"] == "0.00"


def test_a_return_refund_with_tax_and_shipping_chosen_adds_them(api, returned):
    r = api.post(
        f"/api/v1/returns/{returned.number}/refund/",
        {"tax_amount": "2.00", "shipping_amount": "5.00"},
        format="json",
    )

    assert r.status_code == 200, r.content
    refund = r.json()["refunds"][0]
    assert (refund["amount"], refund["tax_amount"], refund["shipping_amount"]) == (
        "24.90",
        "2.00",
        "5.00",
    )


def test_a_return_refund_above_the_order_s_tax_or_what_was_captured_is_a_409(api, returned):
    url = f"/api/v1/returns/{returned.number}/refund/"

    tax = api.post(url, {"tax_amount": "4.01"}, format="json")
    assert tax.status_code == 409, tax.content
    assert "tax" in tax.json()["tax_amount"][0]

    over = api.post(url, {"amount": "44.81"}, format="json")
    assert over.status_code == 409, over.content
    assert "exceeds what is left to refund" in over.json()["detail"]
    assert not Refund.objects.exists()
