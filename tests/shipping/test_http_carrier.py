"""The HTTP courier adapter against a fake courier API on 127.0.0.1: success, timeout,
5xx, malformed answers; and booking, shipping and tracking through it."""

import base64
import json
from decimal import Decimal

import pytest

from fulfillment.carriers.base import (
    CarrierBadResponse,
    CarrierRefused,
    CarrierUnavailable,
    Rate,
)
from fulfillment.carriers.http import HttpCarrier
from fulfillment.models import Shipment, TrackingEvent
from fulfillment.services.booking import shipment_book_and_ship
from fulfillment.services.shipping import shipment_choose_rate
from fulfillment.tasks import poll_tracking
from tests import factories as f

pytestmark = pytest.mark.django_db

RATES = {
    "rates": [
        {
            "service": "eco",
            "name": "Economy",
            "price": "9.90",
            "currency": "BRL",
            "transit_days": 6,
        },
        {"service": "x1", "name": "Next day", "price": 31.5, "currency": "brl", "transit_days": 1},
    ]
}
LABEL = b"%PDF-1.4\n% fake courier label\n%%EOF\n"


def fast(carrier, **kw) -> HttpCarrier:
    return HttpCarrier(carrier, **{"timeout": 0.3, "attempts": 3, "backoff": 0.01, **kw})


def test_quote_success_parses_rates_and_sends_the_parcel(courier, http_carrier, packer):
    courier.on("POST /v1/rates", (200, RATES))
    shipment = packer.shipment()
    rates = fast(http_carrier).quote(shipment)
    assert rates == [
        Rate("fastbox", "eco", "Economy", Decimal("9.90"), "BRL", 6, "FastBox"),
        Rate("fastbox", "x1", "Next day", Decimal("31.50"), "BRL", 1, "FastBox"),
    ]
    (request,) = courier.requests
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    body = json.loads(request["body"])
    assert body["reference"] == shipment.number
    assert body["destination"]["postcode"] == "13023-000"
    assert body["parcel"]["weight_grams"] == 800


def test_a_timeout_is_retried_then_reported_as_unavailable(courier, http_carrier, packer):
    courier.on("POST /v1/rates", (200, RATES, 1.0))
    shipment = packer.shipment()
    with pytest.raises(CarrierUnavailable, match="no answer within 0.3 s after 2 attempt") as e:
        fast(http_carrier, attempts=2).quote(shipment)
    assert e.value.status_code == 502 and e.value.code == "carrier_unavailable"
    assert courier.hits("POST /v1/rates") == 2


def test_a_500_is_retried_a_bounded_number_of_times(courier, http_carrier, packer):
    courier.on("POST /v1/rates", (500, {"error": "boom"}))
    shipment = packer.shipment()
    with pytest.raises(CarrierUnavailable, match="HTTP 500 after 3 attempt"):
        fast(http_carrier).quote(shipment)
    assert courier.hits("POST /v1/rates") == 3


def test_a_passing_500_is_survived_by_the_retry(courier, http_carrier, packer):
    courier.on("POST /v1/rates", (503, b"busy"), (200, RATES))
    shipment = packer.shipment()
    assert [r.service for r in fast(http_carrier).quote(shipment)] == ["eco", "x1"]
    assert courier.hits("POST /v1/rates") == 2


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"<html>Gateway</html>", "did not answer JSON"),
        ({"quotes": []}, "has no rates list"),
        ({"rates": [{"service": "eco", "price": "cheap", "currency": "BRL"}]}, "not a number"),
        ({"rates": [{"service": "eco", "price": "1", "currency": "BRL"}]}, "transit_days"),
        ({"rates": ["eco"]}, "is not an object"),
    ],
)
def test_a_malformed_answer_is_a_clear_error(courier, http_carrier, packer, answer, why):
    courier.on("POST /v1/rates", (200, answer))
    shipment = packer.shipment()
    with pytest.raises(CarrierBadResponse, match=why) as e:
        fast(http_carrier).quote(shipment)
    assert e.value.code == "carrier_bad_response" and e.value.status_code == 502
    assert courier.hits("POST /v1/rates") == 1


def test_a_refusal_is_not_retried(courier, http_carrier, packer):
    courier.on("POST /v1/rates", (422, {"error": "postcode unknown"}))
    shipment = packer.shipment()
    with pytest.raises(CarrierRefused, match=r"refused the request \(422\): postcode unknown"):
        fast(http_carrier).quote(shipment)
    assert courier.hits("POST /v1/rates") == 1


def test_a_courier_that_is_not_listening_is_unavailable(http_carrier, packer):
    http_carrier.base_url = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    with pytest.raises(CarrierUnavailable, match="cannot connect"):
        fast(http_carrier, attempts=2).quote(packer.shipment())


def test_book_downloads_the_label_from_its_url(courier, http_carrier, packer):
    courier.on("POST /v1/shipments", (201, {"tracking_number": "FB123", "label_url": "labels/1"}))
    courier.on("GET /v1/labels/1", (200, LABEL))
    shipment = packer.shipment()
    rate = Rate("fastbox", "eco", "Economy", 9, "BRL", 6)
    booking = fast(http_carrier).book(shipment, rate)
    assert booking.tracking_number == "FB123" and booking.label_pdf == LABEL
    post = courier.requests[0]
    assert post["headers"]["Idempotency-Key"] == shipment.number
    assert json.loads(post["body"])["service"] == "eco"


def test_book_rejects_a_label_that_is_not_a_pdf(courier, http_carrier, packer):
    courier.on(
        "POST /v1/shipments",
        (201, {"tracking_number": "FB1", "label_pdf": base64.b64encode(b"GIF89a").decode()}),
    )
    with pytest.raises(CarrierBadResponse, match="not a PDF"):
        fast(http_carrier).book(packer.shipment(), Rate("fastbox", "eco", "", 9, "BRL", 6))


def test_track_maps_codes_and_skips_unknown_ones(courier, http_carrier):
    courier.on(
        "GET /v1/tracking/FB%2F9",
        (
            200,
            {
                "events": [
                    {"code": "picked_up", "occurred_at": "2026-11-20T10:00:00Z"},
                    {"code": "label_printed", "occurred_at": "2026-11-20T09:00:00Z"},
                    {"code": "DELIVERED", "occurred_at": "2026-11-22T15:30:00-03:00",
                     "location": "Campinas", "description": "Left with neighbour"},
                ]
            },
        ),
    )  # fmt: skip
    events = fast(http_carrier).track("FB/9")
    assert [(e.code, e.occurred_at.isoformat()) for e in events] == [
        ("in_transit", "2026-11-20T10:00:00+00:00"),
        ("delivered", "2026-11-22T15:30:00-03:00"),
    ]
    assert events[1].location == "Campinas"


def test_book_and_ship_through_the_courier_then_poll_to_delivery(
    courier, http_carrier, packer, settings
):
    settings.OMS_CARRIER_TIMEOUT, settings.OMS_CARRIER_BACKOFF = 0.5, 0.01
    courier.on("POST /v1/rates", (200, RATES))
    courier.on(
        "POST /v1/shipments",
        (201, {"tracking_number": "FB/777", "label_pdf": base64.b64encode(LABEL).decode()}),
    )
    shipment = packer.shipment()
    assert shipment_choose_rate(shipment=shipment).code == "fastbox/eco"
    shipment_book_and_ship(shipment=shipment, service_code="x1", actor="floor")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.service) == ("shipped", "fastbox", "x1")
    assert shipment.tracking_number == "FB/777" and str(shipment.shipping_cost) == "31.50"
    assert shipment.label_pdf.name.endswith(f"{shipment.number}-FB777.pdf")
    with shipment.label_pdf.open("rb") as stored:
        assert stored.read() == LABEL
    assert "chosen by staff" in f.last_event(shipment.order, "note").message

    courier.on(
        "GET /v1/tracking/FB%2F777",
        (200, {"events": [{"code": "delivered", "occurred_at": "2030-01-01T00:00:00Z"}]}),
    )
    counts = poll_tracking()
    assert counts == {"shipments": 1, "events": 1, "delivered": 1, "errors": 0}
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    assert TrackingEvent.objects.get(shipment=shipment).source == "poll"
    assert poll_tracking()["shipments"] == 0  # delivered: no longer polled


def test_a_courier_that_is_down_leaves_the_other_carriers_quoting(
    courier, http_carrier, carriers, packer, settings
):
    settings.OMS_CARRIER_TIMEOUT, settings.OMS_CARRIER_BACKOFF = 0.3, 0.01
    courier.on("POST /v1/rates", (502, b"bad gateway"))
    shipment = packer.shipment()
    shipment_book_and_ship(shipment=shipment)
    shipment.refresh_from_db()
    assert shipment.carrier == "correios" and shipment.status == "shipped"
    shopping = f.last_event(shipment.order, "note").data["rate_shopping"]
    assert "HTTP 502" in shopping["carrier_errors"]["fastbox"]
    assert "fastbox did not answer" in f.last_event(shipment.order, "note").message


def test_booking_failure_leaves_the_shipment_packed(courier, http_carrier, packer, settings):
    settings.OMS_CARRIER_TIMEOUT, settings.OMS_CARRIER_BACKOFF = 0.3, 0.01
    courier.on("POST /v1/rates", (200, RATES))
    courier.on("POST /v1/shipments", (500, {"error": "down"}))
    shipment = packer.shipment()
    with pytest.raises(CarrierUnavailable):
        shipment_book_and_ship(shipment=shipment)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED and not shipment.tracking_number
