"""POST /api/v1/returns/ with replacement lines: 201, 400 with field messages, 409."""

import pytest

from returns.services import refund_create
from tests.returns.test_exchanges import delivered, hoodie, main, mug, shirt, shirt_l  # noqa: F401

pytestmark = pytest.mark.django_db


def _post(api, order, **line):
    body = {"order": order.number, "lines": [{"sku": "TSHIRT-M", "quantity": 1, **line}]}
    return api.post("/api/v1/returns/", body, format="json")


def test_create_with_a_replacement_line_then_approve_links_the_replacement(api, delivered):  # noqa: F811
    response = _post(api, delivered, replacement_sku="HOODIE")
    assert response.status_code == 201, response.json()
    line = response.json()["lines"][0]
    assert (line["replacement_sku"], line["replacement_quantity"]) == ("HOODIE", 1)
    number = response.json()["number"]

    approved = api.post(f"/api/v1/returns/{number}/approve/")
    assert approved.status_code == 200
    assert approved.json()["replacement_order"]
    assert api.post(f"/api/v1/returns/{number}/approve/").status_code == 409


def test_a_bad_replacement_sku_or_quantity_is_a_400_naming_the_field(api, delivered):  # noqa: F811
    response = _post(api, delivered, replacement_sku="NOPE")
    assert response.status_code == 400
    assert "lines[0].replacement_sku" in response.json()
    response = _post(api, delivered, replacement_sku="HOODIE", replacement_quantity=2)
    assert response.status_code == 400
    assert "lines[0].replacement_quantity" in response.json()


def test_an_exchange_on_a_refunded_order_is_a_409(api, delivered):  # noqa: F811
    refund_create(order=delivered, amount=delivered.total)
    assert _post(api, delivered, replacement_sku="HOODIE").status_code == 409
