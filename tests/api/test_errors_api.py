"""Bad input gets a 400 with field messages, unknown keys 404, refused moves 409."""

import pytest

from orders.models import Order
from tests import factories as f
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(db):
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    f.receive(shirt, wh, 10)
    return shirt


def lines(**kw):
    return [{"sku": "TSHIRT-M", "quantity": 2, "unit_price": "19.90", **kw}]


BAD_ORDERS = [
    ("unknown sku", {"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines", "Unknown SKU"),
    ("unknown channel", {"channel": "ebay"}, "channel", "does not exist"),
    ("numeric channel", {"channel": 12}, "channel", "does not exist"),
    ("channel not a code", {"channel": ["web"]}, "channel", "invalid value"),
    ("boolean channel", {"channel": True}, "channel", "invalid value"),
    ("zero quantity", {"lines": lines(quantity=0)}, "lines", "greater than or equal to 1"),
    ("negative quantity", {"lines": lines(quantity=-3)}, "lines", "greater than or equal to 1"),
    ("absurd quantity", {"lines": lines(quantity=10**9)}, "lines", "less than or equal to"),
    ("string quantity", {"lines": lines(quantity="two")}, "lines", "valid integer"),
    ("negative price", {"lines": lines(unit_price="-1.00")}, "lines", "greater than or equal"),
    ("text price", {"lines": lines(unit_price="abc")}, "lines", "valid number"),
    ("bad currency", {"currency": "EURO"}, "currency", "ISO 4217"),
    ("lowercase currency", {"currency": "eur"}, "currency", "ISO 4217"),
    (
        "bad country",
        {"shipping_address": {**order_body()["shipping_address"], "country": "Brazil"}},
        "shipping_address",
        "ISO 3166",
    ),
    ("bad email", {"customer": {"email": "not-an-email"}}, "customer", "valid email"),
    ("empty lines", {"lines": []}, "lines", "empty"),
    ("missing address", {"shipping_address": None}, "shipping_address", "null"),
    ("negative shipping", {"shipping_total": "-5"}, "shipping_total", "greater than or equal"),
]


@pytest.mark.parametrize("label,override,field,text", BAD_ORDERS, ids=[b[0] for b in BAD_ORDERS])
def test_bad_order_input_is_a_400_naming_the_field(api, stocked, label, override, field, text):
    r = api.post("/api/v1/orders/", order_body(**override), format="json")
    assert r.status_code == 400, r.data
    assert field in r.data, r.data
    assert text.lower() in str(r.data[field]).lower()
    assert "detail" in r.data
    assert Order.objects.count() == 0


def test_malformed_json_is_a_400(api, stocked):
    r = api.post("/api/v1/orders/", data='{"channel": "web", ', content_type="application/json")
    assert r.status_code == 400
    assert "JSON parse error" in r.data["detail"]


def test_json_that_is_not_an_object_is_a_400(api, stocked):
    r = api.post("/api/v1/orders/", data="[1, 2]", content_type="application/json")
    assert r.status_code == 400


def test_unknown_keys_are_404(api):
    for url in (
        "/api/v1/orders/SO-999999/",
        "/api/v1/products/NOPE/",
        "/api/v1/warehouses/NOPE/",
        "/api/v1/shipments/SH-999999/",
        "/api/v1/returns/RMA-999999/",
        "/api/v1/channels/nope/",
    ):
        r = api.get(url)
        assert r.status_code == 404, url
        assert "detail" in r.data
    assert api.post("/api/v1/orders/SO-999999/confirm/").status_code == 404


def test_confirming_twice_is_a_409_naming_state_and_move(api, stocked):
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    assert api.post(f"/api/v1/orders/{number}/confirm/").status_code == 200
    r = api.post(f"/api/v1/orders/{number}/confirm/")
    assert r.status_code == 409
    assert r.data["detail"] == f"Order {number} is confirmed; cannot confirm"
    assert r.data["code"] == "invalid_transition"


def test_cancelling_a_shipped_order_is_a_409_and_changes_nothing(api, stocked):
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    shipment = api.post(f"/api/v1/orders/{number}/confirm/").data["shipments"][0]["number"]
    api.post(f"/api/v1/shipments/{shipment}/ship/")
    r = api.post(f"/api/v1/orders/{number}/cancel/", {"reason": "changed mind"}, format="json")
    assert r.status_code == 409
    assert "cannot cancel" in r.data["detail"]
    assert api.get(f"/api/v1/orders/{number}/").data["status"] == "shipped"


def test_shipping_a_cancelled_shipment_is_a_409(api, stocked):
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    shipment = api.post(f"/api/v1/orders/{number}/confirm/").data["shipments"][0]["number"]
    assert api.post(f"/api/v1/orders/{number}/cancel/").status_code == 200
    r = api.post(f"/api/v1/shipments/{shipment}/ship/")
    assert r.status_code == 409
    assert r.data["detail"].startswith(f"Shipment {shipment} is cancelled")


def test_refunding_more_than_paid_is_a_409(api, stocked):
    number = api.post("/api/v1/orders/", order_body(financial_status="paid"), format="json").data[
        "number"
    ]
    shipment = api.post(f"/api/v1/orders/{number}/confirm/").data["shipments"][0]["number"]
    api.post(f"/api/v1/shipments/{shipment}/ship/")
    rma = api.post(
        "/api/v1/returns/",
        {"order": number, "lines": [{"sku": "TSHIRT-M", "quantity": 2}]},
        format="json",
    ).data["number"]
    api.post(f"/api/v1/returns/{rma}/approve/")
    api.post(f"/api/v1/returns/{rma}/receive/")
    r = api.post(f"/api/v1/returns/{rma}/refund/", {"amount": "1000.00"}, format="json")
    assert r.status_code == 409
    assert "exceeds" in r.data["detail"]
    assert api.get(f"/api/v1/orders/{number}/").data["refunded_total"] == "0.00"


def test_returning_more_than_shipped_is_a_400(api, stocked):
    number = api.post("/api/v1/orders/", order_body(), format="json").data["number"]
    r = api.post(
        "/api/v1/returns/",
        {"order": number, "lines": [{"sku": "TSHIRT-M", "quantity": 1}]},
        format="json",
    )
    assert r.status_code == 400
    assert "only 0 shipped" in r.data["detail"]


def test_stock_actions_refuse_bad_input(api, stocked):
    cases = [
        ({"sku": "TSHIRT-M", "warehouse": "SP-01", "quantity": 0}, "quantity"),
        ({"sku": "NOPE", "warehouse": "SP-01", "quantity": 1}, "sku"),
        ({"sku": "TSHIRT-M", "warehouse": "XX", "quantity": 1}, "warehouse"),
        ({"sku": "TSHIRT-M", "warehouse": "SP-01", "quantity": "1.5"}, "quantity"),
    ]
    for body, field in cases:
        r = api.post("/api/v1/stock/receive/", body, format="json")
        assert r.status_code == 400 and field in r.data, (body, r.data)
    r = api.post(
        "/api/v1/stock/adjust/",
        {"sku": "TSHIRT-M", "warehouse": "SP-01", "delta": -50, "reason": "lost"},
        format="json",
    )
    assert r.status_code == 409 and "cannot change on hand" in r.data["detail"]
    r = api.post(
        "/api/v1/stock/adjust/",
        {"sku": "TSHIRT-M", "warehouse": "SP-01", "delta": 1},
        format="json",
    )
    assert r.status_code == 400 and "reason" in r.data
    r = api.post(
        "/api/v1/stock/transfer/",
        {"sku": "TSHIRT-M", "source": "SP-01", "destination": "SP-01", "quantity": 1},
        format="json",
    )
    assert r.status_code == 400 and "destination" in r.data


def test_product_and_warehouse_validation(api):
    r = api.post("/api/v1/products/", {"sku": "X", "name": "X", "price": "-1"}, format="json")
    assert r.status_code == 400 and "price" in r.data
    f.make_product("DUP")
    r = api.post("/api/v1/products/", {"sku": "DUP", "name": "X", "price": "1"}, format="json")
    assert r.status_code == 400 and "sku" in r.data
    r = api.post(
        "/api/v1/warehouses/", {"code": "W", "name": "W", "country": "Brasil"}, format="json"
    )
    assert r.status_code == 400 and "country" in r.data
