"""Carrier tracking events: they move the shipment and the order; repeated and late
events are harmless; the API endpoint."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.carriers.base import TrackingEvent as Event
from fulfillment.models import Shipment, TrackingEvent
from fulfillment.services.tracking import shipment_record_tracking
from orders.models import Order
from orders.services import order_hold
from tests import factories as f

pytestmark = pytest.mark.django_db


def ago(hours: float):
    return (timezone.now() - timedelta(hours=hours)).replace(microsecond=0)


def test_in_transit_ships_a_packed_shipment_and_delivered_delivers_it(packer):
    shipment = packer.shipment()
    result = shipment_record_tracking(shipment=shipment, events=[Event("in_transit", ago(30))])
    assert (result.created, result.status, result.moved) == (1, "shipped", ["shipped"])
    assert f.quantities(shipment.lines.get().order_line.product, packer.warehouse) == (10, 0)
    assert f.statuses(shipment.order)[0] == Order.Status.SHIPPED

    delivered_at = ago(2)
    result = shipment_record_tracking(
        shipment=shipment,
        events=[Event("out_for_delivery", ago(5)), Event("delivered", delivered_at, "Signed")],
    )
    assert (result.created, result.status) == (2, "delivered")
    shipment.refresh_from_db()
    assert shipment.delivered_at == delivered_at  # the carrier's time, not ours
    assert f.statuses(shipment.order)[0] == Order.Status.DELIVERED
    f.assert_ledger_clean()


def test_repeated_events_are_ignored(packer):
    shipment = packer.shipment()
    events = [Event("in_transit", ago(30)), Event("in_transit", ago(30))]
    first = shipment_record_tracking(shipment=shipment, events=events)
    kinds = f.event_kinds(shipment.order)
    again = shipment_record_tracking(shipment=shipment, events=events)
    assert (first.created, first.duplicates) == (1, 1)
    assert (again.created, again.duplicates, again.moved) == (0, 2, [])
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    assert f.event_kinds(shipment.order) == kinds


def test_late_events_never_move_a_shipment_backwards(packer):
    shipment = packer.shipment()
    shipment_record_tracking(shipment=shipment, events=[Event("delivered", ago(1))])
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    late = shipment_record_tracking(
        shipment=shipment,
        events=[Event("in_transit", ago(40)), Event("out_for_delivery", ago(6))],
    )
    assert (late.created, late.moved, late.status) == (2, [], "delivered")
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 3
    assert f.event_kinds(shipment.order).count("delivered") == 2  # shipment + order, once


def test_an_exception_is_noted_for_staff_and_moves_nothing(packer):
    shipment = packer.shipment()
    shipment_record_tracking(shipment=shipment, events=[Event("in_transit", ago(30))])
    result = shipment_record_tracking(
        shipment=shipment,
        events=[Event("exception", ago(3), "Address not found", "Campinas")],
    )
    assert result.status == "shipped" and result.moved == []
    note = f.last_event(shipment.order, "note")
    assert note.message == (f"Carrier exception on {shipment.number}: Address not found (Campinas)")
    assert not note.public


def test_events_for_an_order_on_hold_are_kept_but_not_applied(packer):
    shipment = packer.shipment()
    order_hold(order=shipment.order, reason="fraud check")
    result = shipment_record_tracking(shipment=shipment, events=[Event("in_transit", ago(1))])
    assert result.error and "on hold" in result.error and result.moved == []
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    assert "kept but not applied" in f.last_event(shipment.order, "note").message


# --------------------------------------------------------------------------- API


def test_tracking_endpoint_moves_the_shipment_and_reports_duplicates(api, packer):
    shipment = packer.shipment()
    url = f"/api/v1/shipments/{shipment.number}/tracking/"
    body = {
        "events": [
            {"code": "in_transit", "occurred_at": "2026-01-05T08:00:00-03:00", "location": "SP"},
            {"code": "delivered", "occurred_at": ago(1).isoformat(), "description": "Signed"},
        ]
    }
    r = api.post(url, body, format="json")
    assert r.status_code == 200, r.json()
    data = r.json()
    assert (data["status"], data["created"], data["duplicates"], data["applied"]) == (
        "delivered",
        2,
        0,
        True,
    )
    assert [e["code"] for e in data["tracking_events"]] == ["in_transit", "delivered"]
    again = api.post(url, body, format="json").json()
    assert (again["created"], again["duplicates"], again["status"]) == (0, 2, "delivered")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": [{"code": "lost_in_space", "occurred_at": "2026-01-05T08:00:00Z"}]}, "events"),
        ({"events": [{"code": "in_transit", "occurred_at": "yesterday"}]}, "events"),
        ({"events": [{"code": "in_transit", "occurred_at": "2999-01-01T00:00:00Z"}]}, "events"),
        ({"events": []}, "events"),
        ({}, "events"),
    ],
)
def test_tracking_endpoint_rejects_bad_events(api, packer, body, field):
    shipment = packer.shipment()
    r = api.post(f"/api/v1/shipments/{shipment.number}/tracking/", body, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not TrackingEvent.objects.exists()


def test_tracking_endpoint_404_and_roles(api, warehouse_api, packer):
    body = {"events": [{"code": "in_transit", "occurred_at": "2026-01-05T08:00:00Z"}]}
    assert api.post("/api/v1/shipments/SH-404/tracking/", body, format="json").status_code == 404
    shipment = packer.shipment()
    url = f"/api/v1/shipments/{shipment.number}/tracking/"
    assert warehouse_api.post(url, body, format="json").status_code == 403
