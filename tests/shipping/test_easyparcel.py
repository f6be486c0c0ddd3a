"""The EasyParcel adapter against the development fake of its open API 2025-09 on
127.0.0.1: OAuth tokens (kept, refreshed before expiry, refreshed once on a 401, one
refresh between two workers), quotations with per-item status, submit order, the AWB,
tracking, cancel; timeouts, 429 and 5xx retried within bounds."""

import base64
import json
import threading
import urllib.parse
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import CarrierCannot, CarrierRefused, CarrierUnavailable
from fulfillment.carriers.easyparcel import EasyParcelCarrier
from fulfillment.models import CarrierToken, Shipment, TrackingEvent
from fulfillment.services.booking import (
    shipment_add_parcel,
    shipment_book,
    shipment_book_and_ship,
    shipment_void_label,
)
from fulfillment.services.shipping import _shop, shipment_record_package
from fulfillment.services.tracking import tracking_poll
from tests.easyparcel import SEED_REFRESH
from tests.shipping.conftest import pdf_text

pytestmark = pytest.mark.django_db
API = "/open_api/2025-09"


def measured(shipment, grams=1200):
    shipment_record_package(
        shipment=shipment, weight_grams=grams, length_cm=30, width_cm=20, height_cm=10
    )
    shipment.refresh_from_db()
    return shipment


def fast(carrier, **kw) -> EasyParcelCarrier:
    return EasyParcelCarrier(carrier, **{"timeout": 0.3, "attempts": 3, "backoff": 0.01, **kw})


def token_requests(fake) -> list[dict]:
    return [
        dict(urllib.parse.parse_qsl(r["body"].decode()))
        for r in fake.requests
        if r["path"] == "/oauth/token"
    ]


# --------------------------------------------------------------------------- OAuth


def test_first_call_refreshes_the_token_with_basic_auth_and_keeps_it(
    easyparcel, easyparcel_api, packer
):
    shipment = measured(packer.shipment())
    adapter = adapter_for(easyparcel)
    adapter.quote(shipment)
    adapter.quote(shipment)
    (token_call,) = [r for r in easyparcel_api.requests if r["path"] == "/oauth/token"]
    basic = base64.b64encode(b"demo-client:demo-secret").decode()
    assert token_call["headers"]["Authorization"] == f"Basic {basic}"
    assert token_requests(easyparcel_api) == [
        {"grant_type": "refresh_token", "refresh_token": SEED_REFRESH}
    ]
    quote_calls = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/quotations"]
    token = CarrierToken.objects.get(carrier=easyparcel)
    assert all(r["headers"]["Authorization"] == f"Bearer {token.access_token}" for r in quote_calls)
    assert token.refresh_token != SEED_REFRESH  # the rotated one, for next time
    assert token.expires_at > timezone.now() + timedelta(hours=9)


def test_a_token_about_to_expire_is_refreshed_before_the_call(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    adapter_for(easyparcel).quote(shipment)
    CarrierToken.objects.filter(carrier=easyparcel).update(
        expires_at=timezone.now() + timedelta(minutes=2)
    )
    adapter_for(easyparcel).quote(shipment)
    assert len(token_requests(easyparcel_api)) == 2
    assert easyparcel_api.hits(f"{API}/shipment/quotations") == 2  # no 401 on the way


def test_a_401_refreshes_once_and_repeats_the_call(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    adapter_for(easyparcel).quote(shipment)
    easyparcel_api.expire_tokens()  # revoked early: EasyParcel answers the documented 401
    rates = adapter_for(easyparcel).quote(shipment)
    assert rates
    assert easyparcel_api.hits(f"{API}/shipment/quotations") == 3
    assert len(token_requests(easyparcel_api)) == 2


def test_a_refused_refresh_token_says_to_authorize_again(easyparcel, packer):
    CarrierToken.objects.filter(carrier=easyparcel).update(refresh_token="stolen-and-used")
    with pytest.raises(CarrierRefused, match="authorize the carrier again"):
        adapter_for(easyparcel).quote(measured(packer.shipment()))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL only"
)
def test_two_workers_with_an_expired_token_refresh_it_once(easyparcel, easyparcel_api):
    barrier = threading.Barrier(2)
    tokens, errors = [], []

    def worker():
        try:
            barrier.wait()
            tokens.append(EasyParcelCarrier(easyparcel).access_token())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(token_requests(easyparcel_api)) == 1  # the seed refresh token works once
    assert tokens[0] == tokens[1] == CarrierToken.objects.get(carrier=easyparcel).access_token


# --------------------------------------------------------------------------- quotations


def test_quotation_prices_services_from_decimal_strings(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment(), grams=1500)
    rates = {r.service: r for r in adapter_for(easyparcel).quote(shipment)}
    assert set(rates) == {"EP-CS0NV", "EP-CS0JT", "EP-CS0DH"}
    ninja = rates["EP-CS0NV"]
    assert (ninja.price, ninja.currency, ninja.transit_days) == (Decimal("9.50"), "BRL", 3)
    assert ninja.carrier_name == "Ninja Van" and ninja.code == "easyparcel/EP-CS0NV"
    assert rates["EP-CS0DH"].transit_days == 1
    assert rates["EP-CS0JT"].transit_days == 7  # null duration: assumed slow, not fast
    (call,) = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/quotations"]
    (item,) = json.loads(call["body"])["list"]
    assert item["receiver"] == {
        "postcode": "13023-000",
        "subdivison_code": "BR-SP",
        "country": "BR",
    }
    assert item["weight"] == 1.5 and item["length"] == 30.0


def test_two_parcels_are_quoted_in_one_request_and_priced_together(
    easyparcel, easyparcel_api, packer
):
    shipment = measured(packer.shipment(), grams=1000)
    shipment_add_parcel(
        shipment=shipment, weight_grams=2000, length_cm=40, width_cm=30, height_cm=20
    )
    rates = {r.service: r for r in adapter_for(easyparcel).quote(shipment)}
    assert rates["EP-CS0NV"].price == Decimal("8.50") + Decimal("10.50")
    (call,) = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/quotations"]
    assert [i["weight"] for i in json.loads(call["body"])["list"]] == [1.0, 2.0]


def test_an_item_error_in_a_mixed_batch_is_reported_not_taken_as_a_price(
    easyparcel, easyparcel_api, carriers, packer
):
    shipment = measured(packer.shipment(), grams=800)
    shipment_add_parcel(shipment=shipment, weight_grams=25000)  # over the courier's limit
    with pytest.raises(CarrierRefused, match="box 2: Weight exceeds service limits"):
        adapter_for(easyparcel).quote(shipment)
    shopping = _shop(shipment, None)  # rate shopping goes on with the other carriers
    assert shopping.rate.carrier != "easyparcel"
    assert "box 2: Weight exceeds service limits" in shopping.errors["easyparcel"]
    body = json.loads(easyparcel_api.requests[-1]["body"])
    assert len(body["list"]) == 2  # one request for the set


def test_429_and_a_passing_503_are_retried(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    adapter = fast(easyparcel)
    adapter.access_token()
    easyparcel_api.fail(f"{API}/shipment/quotations", 429)
    easyparcel_api.fail(f"{API}/shipment/quotations", 503)
    assert adapter.quote(shipment)
    assert easyparcel_api.hits(f"{API}/shipment/quotations") == 3


def test_5xx_beyond_the_bound_is_unavailable(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    easyparcel_api.fail(f"{API}/shipment/quotations", 500, times=5)
    with pytest.raises(CarrierUnavailable, match="HTTP 500 after 3 attempt"):
        fast(easyparcel).quote(shipment)
    assert easyparcel_api.hits(f"{API}/shipment/quotations") == 3


def test_a_timeout_is_retried_then_unavailable(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    easyparcel_api.fail(f"{API}/shipment/quotations", 0, delay=0.8, times=2)
    with pytest.raises(CarrierUnavailable, match="no answer within 0.3 s after 2 attempt"):
        fast(easyparcel, attempts=2).quote(shipment)


def test_a_validation_error_is_a_refusal_with_its_messages(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    easyparcel_api.fail(
        f"{API}/shipment/quotations",
        400,
        {
            "status_code": 400,
            "message": "Validation error",
            "data": {"errors": ["The receiver country field is required"]},
        },
    )
    with pytest.raises(CarrierRefused, match="The receiver country field is required"):
        fast(easyparcel).quote(shipment)
    assert easyparcel_api.hits(f"{API}/shipment/quotations") == 1  # not retried


# --------------------------------------------------------------------------- booking


def test_booking_submits_the_order_and_stores_the_awb_label(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    shipment, created = shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    assert created and shipment.status == Shipment.Status.PACKED
    assert shipment.carrier_reference.startswith("ES-")
    assert shipment.tracking_number.startswith("71") and shipment.shipping_cost == Decimal("8.90")
    label = shipment.label_pdf.read()
    assert f"AWB {shipment.tracking_number}" in pdf_text(label)
    (submit,) = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/submit_orders"]
    (order,) = json.loads(submit["body"])["shipment"]
    assert order["service_id"] == "EP-CS0NV"
    assert order["receiver"]["phone_number"] == "19999990000"
    assert order["receiver"]["phone_number_country_code"] == "BR"
    assert order["sender"]["phone_number"] == "1140000000"
    assert order["customer_reference_no"] == shipment.number
    again, created = shipment_book(shipment=shipment)
    assert not created and again.tracking_number == shipment.tracking_number
    assert easyparcel_api.hits(f"{API}/shipment/submit_orders") == 1  # idempotent


def test_an_awb_assigned_later_is_read_from_the_shipment_details(
    easyparcel, easyparcel_api, packer
):
    shipment = measured(packer.shipment())
    shipment, _ = shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0JT")
    assert easyparcel_api.hits(f"{API}/shipment/details") == 1
    assert shipment.tracking_number and "AWB" in pdf_text(shipment.label_pdf.read())


def test_an_unmeasured_box_is_refused_before_calling_the_courier(
    easyparcel, easyparcel_api, packer
):
    shipment = packer.shipment()
    with pytest.raises(CarrierCannot, match="measure the box"):
        shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    assert easyparcel_api.hits(f"{API}/shipment/submit_orders") == 0
    shipment.refresh_from_db()
    assert shipment.booking_started_at is None and not shipment.tracking_number


def test_two_parcels_get_two_awbs_and_one_label_document(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment(), grams=1000)
    shipment_add_parcel(
        shipment=shipment, weight_grams=2500, length_cm=40, width_cm=30, height_cm=20
    )
    shipment, _ = shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0DH")
    boxes = list(shipment.parcels.order_by("sequence"))
    assert [b.weight_grams for b in boxes] == [1000, 2500]
    assert boxes[0].tracking_number == shipment.tracking_number != boxes[1].tracking_number
    text = pdf_text(shipment.label_pdf.read())
    assert boxes[0].tracking_number in text and boxes[1].tracking_number in text
    (submit,) = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/submit_orders"]
    assert len(json.loads(submit["body"])["shipment"]) == 2


def test_void_cancels_with_easyparcel_and_forgets_the_label(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    shipment, _ = shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    number = shipment.carrier_reference
    shipment_void_label(shipment=shipment, reason="wrong box", actor="floor")
    shipment.refresh_from_db()
    assert (shipment.tracking_number, shipment.carrier, shipment.label_pdf.name) == ("", "", "")
    assert easyparcel_api.shipments[number].cancelled
    (cancel,) = [r for r in easyparcel_api.requests if r["path"] == f"{API}/shipment/cancel"]
    assert json.loads(cancel["body"]) == {
        "cancel_list": [{"shipment_number": number, "remark": f"label of {shipment.number} voided"}]
    }
    assert "voided with easyparcel: wrong box" in shipment.order.events.last().message


def test_void_is_refused_once_the_courier_has_collected(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    shipment, _ = shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    easyparcel_api.scan(shipment.tracking_number, 4)
    with pytest.raises(CarrierCannot, match="Shipment Cannot Be Cancelled") as refused:
        shipment_void_label(shipment=shipment)
    assert refused.value.status_code == 409
    shipment.refresh_from_db()
    assert shipment.tracking_number  # kept: the courier still has it


# --------------------------------------------------------------------------- tracking


def test_polling_maps_easyparcel_statuses_to_ours_until_delivered(
    easyparcel, easyparcel_api, packer
):
    shipment = measured(packer.shipment())
    shipment_book_and_ship(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    awb = shipment.tracking_number
    easyparcel_api.scan(awb, 4, location="Sao Paulo hub")
    easyparcel_api.scan(awb, 8)
    assert tracking_poll()["events"] == 2
    easyparcel_api.scan(awb, 9)
    assert tracking_poll()["delivered"] == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    codes = list(TrackingEvent.objects.filter(shipment=shipment).values_list("code", flat=True))
    assert codes == ["in_transit", "out_for_delivery", "delivered"]
    assert TrackingEvent.objects.filter(shipment=shipment, location="Sao Paulo hub").exists()


def test_an_unknown_awb_has_no_events(easyparcel):
    assert adapter_for(easyparcel).track("000000") == []


def test_the_authorize_command_exchanges_the_code_for_tokens(easyparcel, easyparcel_api):
    import io

    from django.core.management import call_command

    CarrierToken.objects.filter(carrier=easyparcel).delete()
    out = io.StringIO()
    call_command(
        "easyparcel_authorize", "easyparcel", code="abc", redirect_uri="https://oms/cb", stdout=out
    )
    assert "authorized" in out.getvalue()
    assert token_requests(easyparcel_api) == [
        {"grant_type": "authorization_code", "code": "abc", "redirect_uri": "https://oms/cb"}
    ]
    token = CarrierToken.objects.get(carrier=easyparcel)
    assert token.access_token and token.refresh_token


def test_the_admin_voids_a_label_and_shows_the_token_state(
    admin_client, easyparcel, easyparcel_api, packer
):
    shipment = measured(packer.shipment())
    shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    page = admin_client.get(f"/admin/fulfillment/carrier/{easyparcel.pk}/change/").content.decode()
    assert "access token valid until" in page
    admin_client.post(
        "/admin/fulfillment/shipment/",
        {"action": "void_labels", "_selected_action": [shipment.pk]},
    )
    shipment.refresh_from_db()
    assert shipment.tracking_number == "" and easyparcel_api.hits(f"{API}/shipment/cancel") == 1


def test_a_booking_the_order_refuses_meanwhile_is_cancelled_with_easyparcel(
    easyparcel, easyparcel_api, packer, monkeypatch
):
    from fulfillment.services import booking
    from kernel.exceptions import InvalidTransition
    from orders.services import order_hold

    shipment = measured(packer.shipment())
    real_book = EasyParcelCarrier.book

    def book_then_hold(self, shipment_, rate):
        answer = real_book(self, shipment_, rate)
        order_hold(order=shipment_.order, reason="fraud check", actor="risk")  # meanwhile
        return answer

    monkeypatch.setattr(EasyParcelCarrier, "book", book_then_hold)
    with pytest.raises(InvalidTransition, match="on hold"):
        booking.shipment_book(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    shipment.refresh_from_db()
    assert shipment.tracking_number == "" and shipment.booking_started_at is None
    (fake,) = easyparcel_api.shipments.values()
    assert fake.cancelled  # no label left paid for at the courier


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL only"
)
def test_two_simultaneous_bookings_book_one_label(easyparcel, easyparcel_api, packer):
    shipment = measured(packer.shipment())
    easyparcel_api.fail(f"{API}/shipment/submit_orders", 0, delay=0.3)  # a slow courier
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            mine = Shipment.objects.select_related("order", "warehouse").get(pk=shipment.pk)
            outcomes.append(shipment_book(shipment=mine, service_code="easyparcel/EP-CS0NV")[1])
        except Exception as exc:  # noqa: BLE001 - reported below
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)) == ["Conflict", "True"]
    assert easyparcel_api.hits(f"{API}/shipment/submit_orders") == 1
    shipment.refresh_from_db()
    assert shipment.tracking_number
