"""Courier actions of the API, end to end against the EasyParcel fake and the rate
tables: rates -> book -> label PDF -> ship -> tracking webhook (read back) -> delivered;
idempotent booking; voiding; a two-parcel shipment; the 400/404/409 answers."""

import json
from decimal import Decimal

import pytest

from fulfillment.models import Shipment
from tests.shipping.conftest import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def unpacked(packer):
    return packer.shipment(pack=False)


def pack(api, shipment, **body):
    body = body or {"weight_grams": 1200, "length_cm": "30", "width_cm": "20", "height_cm": "10"}
    answer = api.post(f"/api/v1/shipments/{shipment.number}/pack/", body, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def webhook(client, carrier, payload, secret=None):
    return client.post(
        f"/api/v1/carriers/{carrier.code}/webhooks/{secret or carrier.webhook_secret}/",
        data=json.dumps(payload),
        content_type="application/json",
    )


def test_rates_book_label_ship_webhook_delivered(
    api, anon_api, easyparcel, easyparcel_api, carriers, unpacked
):
    base = f"/api/v1/shipments/{unpacked.number}"
    pack(api, unpacked)
    rates = api.get(f"{base}/rates/").json()
    codes = [q["code"] for q in rates["quotes"]]
    assert "easyparcel/EP-CS0NV" in codes and "correios/pac" in codes
    assert [q["code"] for q in rates["quotes"] if q["chosen"]] == [rates["chosen"]]
    chosen = next(q for q in rates["quotes"] if q["chosen"])
    assert chosen["meets_promise"]
    meeting = [Decimal(q["price"]) for q in rates["quotes"] if q["meets_promise"]]
    assert min(meeting) == Decimal(chosen["price"])

    booked = api.post(f"{base}/book/", {"service": "easyparcel/EP-CS0NV"}, format="json")
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    awb = body["tracking_number"]
    assert body["status"] == "packed" and body["carrier"] == "easyparcel" and awb
    assert body["label_url"].endswith(f"{base}/label.pdf/")
    assert awb in pdf_text(api.get(f"{base}/label.pdf/").content)

    again = api.post(f"{base}/book/", {}, format="json")
    assert again.status_code == 200 and again.json()["tracking_number"] == awb
    assert not again.json()["created"]
    assert easyparcel_api.hits("/open_api/2025-09/shipment/submit_orders") == 1

    shipped = api.post(f"{base}/ship/", {}, format="json")
    assert shipped.status_code == 200
    assert (shipped.json()["status"], shipped.json()["tracking_number"]) == ("shipped", awb)

    easyparcel_api.scan(awb, 4)
    easyparcel_api.scan(awb, 9)
    answer = webhook(anon_api, easyparcel, easyparcel_api.webhook_payload(awb))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "processed"
    assert answer.json()["shipment_status"] == "delivered"
    unpacked.refresh_from_db()
    assert unpacked.status == Shipment.Status.DELIVERED
    assert unpacked.order.status == "delivered"


def test_a_forged_webhook_changes_nothing(anon_api, api, easyparcel, easyparcel_api, unpacked):
    base = f"/api/v1/shipments/{unpacked.number}"
    pack(api, unpacked)
    awb = api.post(f"{base}/book/", {"service": "easyparcel/EP-CS0NV"}, format="json").json()[
        "tracking_number"
    ]
    api.post(f"{base}/ship/", {}, format="json")
    forged = {
        "topic": "shipment.tracking.update",
        "awb_number": awb,
        "latest_shipment_status_code": 9,
        "latest_tracking_status": "Delivered",
    }
    assert webhook(anon_api, easyparcel, forged, secret="guessed").status_code == 401
    answer = webhook(anon_api, easyparcel, forged)  # right URL, but EasyParcel says otherwise
    assert answer.status_code == 200 and answer.json()["shipment_status"] == "shipped"
    assert (
        webhook(anon_api, easyparcel, {"topic": "shipment.awb.update", "awb_number": "1"}).json()[
            "status"
        ]
        == "ignored"
    )


def test_void_label_then_book_again(api, easyparcel, easyparcel_api, unpacked):
    base = f"/api/v1/shipments/{unpacked.number}"
    pack(api, unpacked)
    first = api.post(f"{base}/book/", {"service": "easyparcel/EP-CS0NV"}, format="json").json()
    voided = api.post(f"{base}/void-label/", {"reason": "customer changed address"}, format="json")
    assert voided.status_code == 200
    assert (voided.json()["tracking_number"], voided.json()["carrier"]) == ("", "")
    assert api.get(f"{base}/label.pdf/").status_code == 409
    second = api.post(f"{base}/book/", {"service": "easyparcel/EP-CS0DH"}, format="json").json()
    assert second["tracking_number"] != first["tracking_number"]
    api.post(f"{base}/ship/", {}, format="json")
    late = api.post(f"{base}/void-label/", {}, format="json")
    assert late.status_code == 409 and "handed over" in late.json()["detail"]


def test_a_two_parcel_shipment_is_quoted_and_booked_as_a_set(api, easyparcel, unpacked):
    base = f"/api/v1/shipments/{unpacked.number}"
    boxes = [
        {"weight_grams": 1000, "length_cm": "30", "width_cm": "20", "height_cm": "10"},
        {"weight_grams": 2000, "length_cm": "40", "width_cm": "30", "height_cm": "20"},
    ]
    packed = pack(api, unpacked, parcels=boxes)
    assert [p["weight_grams"] for p in packed["parcels"]] == [1000, 2000]
    assert packed["weight_grams"] == 3000
    ninja = next(
        q for q in api.get(f"{base}/rates/").json()["quotes"] if q["code"] == "easyparcel/EP-CS0NV"
    )
    assert ninja["price"] == "19.00"  # 8.50 + 10.50, one quote for both boxes
    body = api.post(f"{base}/book/", {"service": "easyparcel/EP-CS0NV"}, format="json").json()
    assert len(set(body["parcels_tracking"])) == 2
    text = pdf_text(api.get(f"{base}/label.pdf/").content)
    assert all(awb in text for awb in body["parcels_tracking"])


def test_courier_actions_answer_400_404_409(api, easyparcel, unpacked):
    base = f"/api/v1/shipments/{unpacked.number}"
    assert api.get("/api/v1/shipments/SH-NOPE/rates/").status_code == 404
    assert api.post("/api/v1/shipments/SH-NOPE/book/", {}, format="json").status_code == 404
    not_packed = api.post(f"{base}/book/", {}, format="json")
    assert not_packed.status_code == 409 and "pack it first" in not_packed.json()["detail"]
    bad = api.post(f"{base}/pack/", {"parcels": [{"weight_grams": 0}]}, format="json")
    assert bad.status_code == 400 and "parcels" in bad.json()
    pack(api, unpacked)
    unknown = api.post(f"{base}/book/", {"service": "nobody/fast"}, format="json")
    assert unknown.status_code == 409 and unknown.json()["code"] == "no_rate"
    assert api.post(f"{base}/void-label/", {}, format="json").status_code == 409
    assert api.post(f"{base}/book/", {"service": ["x"]}, format="json").status_code == 400


def test_the_schema_documents_the_courier_actions(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path, verb in (
        ("/api/v1/shipments/{number}/rates/", "get"),
        ("/api/v1/shipments/{number}/book/", "post"),
        ("/api/v1/shipments/{number}/void-label/", "post"),
    ):
        assert {"400", "404", "409"} <= set(paths[path][verb]["responses"]), path
    assert "/api/v1/carriers/{code}/webhooks/{secret}/" in paths
