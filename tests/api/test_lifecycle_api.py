"""The whole order lifecycle driven through the REST API alone."""

import pytest
from django.core.management import call_command

from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db


def level(sku, wh):
    return StockLevel.objects.get(product__sku=sku, warehouse__code=wh)


def test_lifecycle_through_the_api_keeps_stock_statuses_and_ledger_true(api):
    r = api.post(
        "/api/v1/warehouses/",
        {"code": "SP-01", "name": "São Paulo DC", "country": "BR", "region": "SP", "priority": 1},
        format="json",
    )
    assert r.status_code == 201, r.data
    for sku, price in (("TSHIRT-M", "19.90"), ("MUG", "7.50")):
        r = api.post(
            "/api/v1/products/",
            {"sku": sku, "name": sku.title(), "price": price, "weight_grams": 300},
            format="json",
        )
        assert r.status_code == 201, r.data
    r = api.post(
        "/api/v1/stock/receive/",
        {"sku": "TSHIRT-M", "warehouse": "SP-01", "quantity": 10, "reference": "PO-1"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert r.data == {
        **r.data,
        "sku": "TSHIRT-M",
        "warehouse": "SP-01",
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }

    r = api.post("/api/v1/orders/", order_body(financial_status="paid"), format="json")
    assert r.status_code == 201, r.data
    number = r.data["number"]
    assert r.data["status"] == "pending"
    assert r.data["total"] == "44.80"
    assert r.data["lines"][0]["quantity"] == 2
    assert [e["kind"] for e in r.data["events"]] == ["placed"]

    r = api.post(f"/api/v1/orders/{number}/confirm/")
    assert r.status_code == 200, r.data
    assert (r.data["status"], r.data["allocation_status"]) == ("confirmed", "allocated")
    assert r.data["lines"][0]["quantity_allocated"] == 2
    shipment = r.data["shipments"][0]
    assert shipment["warehouse"] == "SP-01" and shipment["status"] == "allocated"
    assert (level("TSHIRT-M", "SP-01").on_hand, level("TSHIRT-M", "SP-01").reserved) == (10, 2)

    r = api.post(
        f"/api/v1/shipments/{shipment['number']}/ship/",
        {"carrier": "correios", "tracking_number": "BR123"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert r.data["status"] == "shipped" and r.data["tracking_number"] == "BR123"
    assert (level("TSHIRT-M", "SP-01").on_hand, level("TSHIRT-M", "SP-01").reserved) == (8, 0)
    r = api.get(f"/api/v1/orders/{number}/")
    assert (r.data["status"], r.data["fulfillment_status"]) == ("shipped", "fulfilled")

    r = api.post(f"/api/v1/shipments/{shipment['number']}/deliver/")
    assert r.status_code == 200 and r.data["status"] == "delivered"
    assert api.get(f"/api/v1/orders/{number}/").data["status"] == "delivered"

    r = api.post(
        "/api/v1/returns/",
        {"order": number, "lines": [{"sku": "TSHIRT-M", "quantity": 1, "reason": "size_fit"}]},
        format="json",
    )
    assert r.status_code == 201, r.data
    rma = r.data["number"]
    assert r.data["status"] == "requested"
    assert api.post(f"/api/v1/returns/{rma}/approve/").data["status"] == "approved"
    r = api.post(
        f"/api/v1/returns/{rma}/receive/",
        {
            "lines": [
                {
                    "sku": "TSHIRT-M",
                    "quantity_received": 1,
                    "condition": "new",
                    "disposition": "restock",
                    "restock_warehouse": "SP-01",
                }
            ]
        },
        format="json",
    )
    assert r.status_code == 200, r.data
    assert r.data["status"] == "received"
    assert level("TSHIRT-M", "SP-01").on_hand == 9
    r = api.post(f"/api/v1/returns/{rma}/refund/", {"reference": "RF-1"}, format="json")
    assert r.status_code == 200, r.data
    assert r.data["status"] == "refunded"
    assert r.data["refunds"][0]["amount"] == "19.90"
    order = api.get(f"/api/v1/orders/{number}/").data
    assert order["financial_status"] == "partially_refunded"
    assert order["refunded_total"] == "19.90"
    assert order["lines"][0]["quantity_returned"] == 1

    kinds = list(StockMovement.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["receipt", "reserve", "ship", "return_restock"]
    r = api.get("/api/v1/stock/movements/", {"sku": "TSHIRT-M", "kind": "ship"})
    assert r.data["count"] == 1 and r.data["results"][0]["on_hand_delta"] == -2
    assert stock_ledger_mismatches() == []
    call_command("check_stock_ledger")


def test_stock_list_filters_and_actions(api):
    from tests import factories as f

    wh = f.make_warehouse("RJ-01")
    p = f.make_product("CAP")
    f.receive(p, wh, 3)
    r = api.post(
        "/api/v1/stock/adjust/",
        {"sku": "CAP", "warehouse": "RJ-01", "counted": 1, "reason": "cycle count"},
        format="json",
    )
    assert r.status_code == 200 and r.data["on_hand"] == 1
    api.post(
        "/api/v1/stock/adjust/",
        {"sku": "CAP", "warehouse": "RJ-01", "delta": 4, "reason": "found"},
        format="json",
    )
    StockLevel.objects.filter(product=p).update(reorder_point=10)
    r = api.get("/api/v1/stock/", {"below_reorder_point": "true"})
    assert [row["sku"] for row in r.data["results"]] == ["CAP"]
    assert r.data["results"][0] == {
        **r.data["results"][0],
        "on_hand": 5,
        "available": 5,
        "reorder_point": 10,
    }
    assert api.get("/api/v1/stock/", {"below_reorder_point": "false"}).data["count"] == 0
    wh2 = f.make_warehouse("MG-01")
    r = api.post(
        "/api/v1/stock/transfer/",
        {"sku": "CAP", "source": "RJ-01", "destination": wh2.code, "quantity": 2},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert sorted((row["warehouse"], row["on_hand"]) for row in r.data) == [
        ("MG-01", 2),
        ("RJ-01", 3),
    ]
    kinds = set(StockMovement.objects.values_list("kind", flat=True))
    assert kinds == {"receipt", "count", "adjustment", "transfer_out", "transfer_in"}
    assert stock_ledger_mismatches() == []
