"""API: suppliers, purchase orders (create, send, receive, close, documents), transfers
(dispatch, receive with a loss) and the incoming list."""

import csv
import io

import pytest

from inventory.models import Supplier, SupplierProduct
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    wh = f.make_warehouse("SP-01", priority=1)
    store = f.make_warehouse("RJ-01", priority=2)
    mug = f.make_product("MUG-BLU")
    supplier = Supplier.objects.create(code="ACME", name="Acme", lead_time_days=4, currency="BRL")
    SupplierProduct.objects.create(
        supplier=supplier, product=mug, supplier_sku="AC-77", unit_cost="4.20"
    )
    return wh, store, mug


def _create_po(api, **overrides):
    body = {"supplier": "ACME", "warehouse": "SP-01", "lines": [{"sku": "MUG-BLU", "quantity": 10}]}
    body.update(overrides)
    return api.post("/api/v1/purchase-orders/", body, format="json")


def test_purchase_order_through_the_api_from_draft_to_received_with_an_over_receipt(api, setup):
    wh, _, mug = setup
    response = _create_po(api)
    assert response.status_code == 201, response.json()
    po = response.json()
    assert (po["status"], po["lines"][0]["unit_cost"]) == ("draft", "4.20")
    number = po["number"]

    assert api.post(f"/api/v1/purchase-orders/{number}/send/").json()["status"] == "sent"
    body = {"lines": [{"sku": "MUG-BLU", "quantity": 4}]}
    response = api.post(f"/api/v1/purchase-orders/{number}/receive/", body, format="json")
    assert response.json()["status"] == "partially_received"
    body = {"lines": [{"sku": "MUG-BLU", "quantity": 8}]}
    line = api.post(f"/api/v1/purchase-orders/{number}/receive/", body, format="json").json()
    assert line["status"] == "received"
    assert (line["lines"][0]["quantity_received"], line["lines"][0]["over"]) == (12, 2)
    assert f.quantities(mug, wh) == (12, 0)
    movements = api.get(f"/api/v1/stock/movements/?reference={number}").json()["results"]
    assert [m["on_hand_delta"] for m in movements] == [8, 4]


def test_purchase_order_errors_are_400_and_409_with_field_messages(api, setup):
    assert _create_po(api, lines=[]).status_code == 400
    response = _create_po(api, lines=[{"sku": "NOPE", "quantity": 1}])
    assert response.status_code == 400 and "lines" in response.json()
    response = _create_po(api, lines=[{"sku": "MUG-BLU", "quantity": 0}])
    assert response.status_code == 400
    number = _create_po(api).json()["number"]
    body = {"lines": [{"sku": "MUG-BLU", "quantity": 1}]}
    response = api.post(f"/api/v1/purchase-orders/{number}/receive/", body, format="json")
    assert response.status_code == 409
    assert "send it to the supplier first" in response.json()["detail"]
    assert api.post(f"/api/v1/purchase-orders/{number}/close/").status_code == 409


def test_purchase_order_pdf_and_csv_for_the_supplier(api, setup):
    number = _create_po(api).json()["number"]

    pdf = api.get(f"/api/v1/purchase-orders/{number}/document.pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    response = api.get(f"/api/v1/purchase-orders/{number}/lines.csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["supplier_sku"], r["sku"], r["quantity"], r["line_total"]) for r in rows] == [
        ("AC-77", "MUG-BLU", "10", "42.00")
    ]


def test_transfer_through_the_api_with_a_loss_and_incoming_list(api, warehouse_api, setup):
    wh, store, mug = setup
    f.receive(mug, wh, 10)
    body = {
        "source": "SP-01",
        "destination": "RJ-01",
        "expected_date": "2026-12-09",
        "lines": [{"sku": "MUG-BLU", "quantity": 6}],
    }
    number = api.post("/api/v1/transfers/", body, format="json").json()["number"]
    response = warehouse_api.post(f"/api/v1/transfers/{number}/dispatch/")
    assert response.json()["status"] == "in_transit", response.json()
    incoming = api.get("/api/v1/stock/incoming/?sku=MUG-BLU").json()["results"]
    assert [
        (r["warehouse"], r["quantity"], r["expected_date"], r["reference"]) for r in incoming
    ] == [("RJ-01", 6, "2026-12-09", number)]

    too_many = {"received": [{"sku": "MUG-BLU", "quantity": 7}]}
    response = warehouse_api.post(f"/api/v1/transfers/{number}/receive/", too_many, format="json")
    assert response.status_code == 400 and "only 6 in transit" in response.json()["detail"]
    body = {
        "received": [{"sku": "MUG-BLU", "quantity": 5}],
        "lost": [{"sku": "MUG-BLU", "quantity": 1}],
    }
    transfer = warehouse_api.post(
        f"/api/v1/transfers/{number}/receive/", body, format="json"
    ).json()

    assert transfer["status"] == "received"
    assert transfer["lines"][0] | {} == {
        "sku": "MUG-BLU",
        "quantity": 6,
        "quantity_received": 5,
        "quantity_lost": 1,
        "in_transit": 0,
    }
    assert (f.quantities(mug, wh), f.quantities(mug, store)) == ((4, 0), (5, 0))
    assert api.get("/api/v1/stock/incoming/").json()["results"] == []
    f.assert_ledger_clean()


def test_warehouse_staff_may_receive_but_not_create_purchase_orders(api, warehouse_api, setup):
    assert _create_po(warehouse_api).status_code == 403
    number = _create_po(api).json()["number"]
    assert warehouse_api.post(f"/api/v1/purchase-orders/{number}/send/").status_code == 403
    api.post(f"/api/v1/purchase-orders/{number}/send/")
    body = {"lines": [{"sku": "MUG-BLU", "quantity": 1}]}
    response = warehouse_api.post(f"/api/v1/purchase-orders/{number}/receive/", body, format="json")
    assert response.status_code == 200


def test_purchase_order_list_query_count_does_not_grow_with_orders(
    api, setup, django_assert_max_num_queries
):
    for _ in range(15):
        _create_po(api)
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/purchase-orders/?status=draft")
    assert response.json()["count"] == 15
