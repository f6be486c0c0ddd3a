"""POST /api/v1/orders/{number}/edit/ and /cancel-lines/: 200 with the order and what
changed, 400 with field messages, 409 when the state forbids the move."""

import pytest

from fulfillment.services import shipment_start_picking
from orders.services import order_mark_paid
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(db):
    main = f.make_warehouse("MAIN", priority=1)
    mug, lamp = f.make_product("MUG", price="7.50"), f.make_product("LAMP", price="40.00")
    f.receive(mug, main, 10)
    f.receive(lamp, main, 2)
    order = f.place([(mug, 2), (lamp, 1)], shipping_total="5.00")
    order_mark_paid(order=order)
    return f.confirm(order)


def url(order, what):
    return f"/api/v1/orders/{order.number}/{what}/"


def line_id(order, sku):
    return order.lines.get(sku=sku).pk


def test_edit_changes_quantity_adds_a_line_and_answers_the_order(api, order):
    f.make_product("VASE", price="12.00")
    response = api.post(
        url(order, "edit"),
        {
            "quantities": [{"line": line_id(order, "MUG"), "quantity": 3, "expected": 2}],
            "add": [{"sku": "VASE", "quantity": 1}],
            "shipping_address": {"line1": "Rua Nova 9"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["number"] == order.number
    assert body["subtotal"] == "74.50" and body["total"] == "79.50"
    assert body["amount_due"] == "19.50" and body["refund_due"] == "0.00"
    assert {line["sku"]: line["quantity"] for line in body["lines"]} == {
        "MUG": 3,
        "LAMP": 1,
        "VASE": 1,
    }
    assert body["shipping_address"]["line1"] == "Rua Nova 9"
    assert "MUG quantity 2 -> 3" in body["changes"]
    assert body["events"][-1]["kind"] == "edited"
    assert body["events"][-1]["actor"] == "shop-integration"
    f.assert_ledger_clean()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "non_field_errors"),
        ({"quantities": [{"line": 1, "quantity": 0}]}, "quantities"),
        ({"add": [{"sku": "NOPE", "quantity": 1}]}, "add[0].sku"),
        ({"shipping_address": {"country": "Brazil"}}, "shipping_address"),
        ({"service": "nobody/fast"}, "service"),
        ({"shipping_total": "-1"}, "shipping_total"),
        ({"shipping_total": "1.234"}, "shipping_total"),
        ({"quantities": [{"line": 999999, "quantity": 1}]}, "quantities[0].line"),
    ],
)
def test_edit_bad_input_is_400_with_the_field(api, order, payload, field):
    response = api.post(url(order, "edit"), payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_edit_of_a_line_being_picked_is_409_and_says_why(api, order):
    shipment = order.shipments.get()
    shipment_start_picking(shipment=shipment)
    response = api.post(
        url(order, "edit"),
        {"quantities": [{"line": line_id(order, "MUG"), "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "line_locked"
    assert f"picking has started ({shipment.number} is picking)" in body["detail"]


def test_stale_expected_quantity_is_409(api, order):
    body = {"quantities": [{"line": line_id(order, "MUG"), "quantity": 4, "expected": 1}]}
    response = api.post(url(order, "edit"), body, format="json")
    assert response.status_code == 409
    assert "changed meanwhile" in response.json()["detail"]


def test_cancel_lines_shows_the_refund_due(api, order):
    response = api.post(
        url(order, "cancel-lines"),
        {"lines": [{"line": line_id(order, "LAMP")}], "reason": "customer asked"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["refund_due"] == "40.00"
    assert body["total"] == "20.00" and body["status"] == "confirmed"
    lamp = next(line for line in body["lines"] if line["sku"] == "LAMP")
    assert lamp["quantity_cancelled"] == 1
    f.assert_ledger_clean()


def test_cancelling_every_line_cancels_and_then_409(api, order):
    lines = [{"line": line_id(order, "MUG")}, {"line": line_id(order, "LAMP")}]
    response = api.post(
        url(order, "cancel-lines"), {"lines": lines, "reason": "gone"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["refund_due"] == "60.00"
    again = api.post(url(order, "cancel-lines"), {"lines": lines, "reason": "x"}, format="json")
    assert again.status_code == 409
    edit = api.post(url(order, "edit"), {"shipping_total": "1.00"}, format="json")
    assert edit.status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lines": [], "reason": "x"}, "lines"),
        ({"lines": [{"line": 1}]}, "reason"),
        ({"lines": [{"line": 1, "quantity": 0}], "reason": "x"}, "lines"),
    ],
)
def test_cancel_lines_bad_input_is_400(api, order, payload, field):
    response = api.post(url(order, "cancel-lines"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_cancel_more_than_open_is_400_naming_the_line(api, order):
    response = api.post(
        url(order, "cancel-lines"),
        {"lines": [{"line": line_id(order, "MUG"), "quantity": 5}], "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "lines[0].quantity" in response.json()


def test_warehouse_staff_may_not_edit(warehouse_api, order):
    response = warehouse_api.post(url(order, "edit"), {"shipping_total": "1.00"}, format="json")
    assert response.status_code == 403


def test_schema_lists_both_actions(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/orders/{number}/edit/" in schema["paths"]
    assert "/api/v1/orders/{number}/cancel-lines/" in schema["paths"]


def test_an_edit_replayed_with_its_idempotency_key_adds_the_line_once(api, order):
    f.make_product("VASE", price="12.00")
    body = {"add": [{"sku": "VASE", "quantity": 1}]}
    first = api.post(url(order, "edit"), body, format="json", HTTP_IDEMPOTENCY_KEY="edit-1")
    again = api.post(url(order, "edit"), body, format="json", HTTP_IDEMPOTENCY_KEY="edit-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert order.lines.filter(sku="VASE").count() == 1
