"""orders.delays: at risk only when the projected ship date passes ship-by (queue
projection, ship-by passed, backorders); late shipments; filters."""

from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from fulfillment.models import Shipment
from fulfillment.services import shipment_deliver, shipment_ship
from inventory.models import Warehouse
from orders.delays import detect_delays, nth_business_day, throughput
from orders.models import Order, OrderEvent
from orders.services import order_hold
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def _ship(order, *, eta: date | None):
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment, carrier="correios", estimated_delivery=eta)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=NOW - timedelta(days=3))
    return shipment


@pytest.fixture
def floor(settings):
    """One point SP that shipped 5 shipments in the last 14 days, on one day (its
    demonstrated capacity is set to 1 a day below), and orders built to be at risk, late,
    or neither."""
    sp = f.make_warehouse("SP")
    tee, ghost = f.make_product("TEE"), f.make_product("GHOST")
    f.receive(tee, sp, 100)
    f.channel("slow", handling_days=5)
    before = NOW - timedelta(days=10)
    shipped = [f.confirm(f.place([(tee, 1)], placed_at=before)) for _ in range(5)]
    etas = [date(2026, 11, 23), date(2026, 11, 27), date(2026, 11, 20), None, None]
    shipments = [_ship(o, eta=eta) for o, eta in zip(shipped, etas, strict=True)]
    shipment_deliver(shipment=shipments[2])  # was due 20 Nov, delivered: not late

    tuesday = NOW - timedelta(days=1)  # ship-by (5 business days) Tue 1 Dec 10:00
    queue = [f.confirm(f.place([(tee, 1)], channel_code="slow", placed_at=tuesday))]
    queue += [f.confirm(f.place([(tee, 1)], channel_code="slow", placed_at=tuesday))]
    queue += [f.confirm(f.place([(tee, 1)], channel_code="slow", placed_at=tuesday))]
    orders = {
        "late": shipped[0],
        "in_transit": shipped[1],
        # ship-by set to Thu 26 Nov below; one a day: Wed, Thu, then Fri for q3
        "q1": queue[0],
        "q2": queue[1],
        "q3": queue[2],  # ships Fri 27 Nov: after ship-by
        # web ships in 2 business days: Mon 09:00 -> Wed 09:00 (passed an hour ago),
        # Mon 15:00 -> Wed 15:00 (5 h left: close, but nothing says it will miss it),
        # Tue 11:00 -> Thu 11:00 (25 h left)
        "passed": f.place([(tee, 1)], placed_at=datetime(2026, 11, 23, 9, tzinfo=UTC)),
        "close": f.place([(tee, 1)], placed_at=datetime(2026, 11, 23, 15, tzinfo=UTC)),
        "in_time": f.place([(tee, 1)], placed_at=datetime(2026, 11, 24, 11, tzinfo=UTC)),
        "backordered": f.confirm(f.place([(ghost, 2)], channel_code="slow", placed_at=tuesday)),
        "held": f.place([(tee, 1)], channel_code="slow", placed_at=tuesday),
    }
    order_hold(order=orders["held"], reason="customer asked to wait")
    Warehouse.objects.filter(pk=sp.pk).update(daily_capacity=1)
    Order.objects.filter(pk__in=[o.pk for o in queue]).update(
        ship_by=datetime(2026, 11, 26, 10, tzinfo=UTC)
    )
    return orders


def _flags():
    return (
        set(Order.objects.filter(at_risk=True).values_list("number", flat=True)),
        set(Order.objects.filter(late=True).values_list("number", flat=True)),
    )


def test_calendar_helpers():
    wednesday = date(2026, 11, 25)
    assert nth_business_day(wednesday, 1) == wednesday
    assert nth_business_day(wednesday, 3) == date(2026, 11, 27)
    assert nth_business_day(wednesday, 4) == date(2026, 11, 30)
    assert nth_business_day(date(2026, 11, 28), 1) == date(2026, 11, 30)  # Saturday


def test_capacity_is_the_busiest_business_day_of_14_unless_the_point_sets_it(floor):
    sp_id = floor["late"].shipments.get().warehouse_id
    assert throughput(now=NOW) == {sp_id: 1.0}  # set on the point
    Warehouse.objects.filter(pk=sp_id).update(daily_capacity=None)
    assert throughput(now=NOW) == {sp_id: 5.0}  # all five shipped on 22 Nov


def test_detection_flags_exactly_the_orders_built_to_be_at_risk_or_late(floor):
    result = detect_delays(now=NOW)
    expected_risk = {floor[k].number for k in ("q3", "passed", "backordered")}
    assert _flags() == (expected_risk, {floor["late"].number})
    assert set(result["at_risk"]) == expected_risk and result["late"] == [floor["late"].number]

    q3 = Order.objects.get(pk=floor["q3"].pk)
    assert q3.projected_ship_date == date(2026, 11, 27)
    # the one short reason on the order; the full explanation in its event
    assert q3.at_risk_reason == "projected to ship Fri 27 Nov, after ship-by Thu 26 Nov"
    event = q3.events.get(kind=OrderEvent.Kind.AT_RISK)
    assert "position 3 of 3 at SP, 1 shipments/business day" in event.message
    assert event.data["rules"] == ["projection"] and event.data["projection"]["position"] == 3
    assert event.message.startswith("At risk: ")
    passed = Order.objects.get(pk=floor["passed"].pk)
    assert passed.at_risk_reason == "ship-by Wed 25 Nov 09:00 passed, not shipped"
    assert "not shipped (pending) and ship-by Wed 25 Nov 09:00 passed 1h ago" in (
        passed.events.get(kind=OrderEvent.Kind.AT_RISK).message
    )
    assert not Order.objects.get(pk=floor["close"].pk).at_risk  # close is not late
    backordered = Order.objects.get(pk=floor["backordered"].pk)
    assert backordered.at_risk_reason == "backordered: GHOST x2"
    assert "restock expected Fri 4 Dec (lead time 7 business days)" in (
        backordered.events.get(kind=OrderEvent.Kind.AT_RISK).message
    )
    late = floor["late"].events.get(kind=OrderEvent.Kind.LATE)
    assert "was due Mon 23 Nov, 2 days ago, and is not delivered" in late.message


def test_a_second_run_writes_no_second_event_and_shipping_clears_the_flag(floor):
    detect_delays(now=NOW)
    again = detect_delays(now=NOW)
    assert again["at_risk"] == [] and again["late"] == []
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.AT_RISK).count() == 3
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.LATE).count() == 1

    shipment_ship(shipment=floor["q3"].shipments.get())
    shipment_deliver(shipment=floor["late"].shipments.get())
    result = detect_delays(now=NOW)
    at_risk, late = _flags()
    assert floor["q3"].number not in at_risk and late == set()
    assert result["at_risk_cleared"] == 1 and result["late_cleared"] == 1
    q3 = Order.objects.get(pk=floor["q3"].pk)
    assert (q3.at_risk_reason, q3.at_risk_since, q3.projected_ship_date) == ("", None, None)


def test_an_open_order_back_on_time_is_cleared_with_a_note(floor):
    detect_delays(now=NOW)
    # two shipments leave SP: the queue moves up, q3 now ships today
    shipment_ship(shipment=floor["q1"].shipments.get())
    shipment_ship(shipment=floor["q2"].shipments.get())
    detect_delays(now=NOW)
    q3 = Order.objects.get(pk=floor["q3"].pk)
    assert not q3.at_risk
    note = q3.events.filter(kind=OrderEvent.Kind.NOTE).get()
    assert note.message.startswith("No longer at risk (was: ")


def test_api_filters_at_risk_and_late(floor, django_user_model):
    from django.contrib.auth.models import Group

    detect_delays(now=NOW)
    user = django_user_model.objects.create_user("boss", password="pw-123456")
    user.groups.add(Group.objects.get(name="manager"))
    api = APIClient()
    api.force_authenticate(user)
    risky = api.get("/api/v1/orders/", {"at_risk": "true", "page_size": 100}).json()
    assert {o["number"] for o in risky["results"]} == {
        floor[k].number for k in ("q3", "passed", "backordered")
    }
    assert all(o["at_risk"] and o["at_risk_reason"] for o in risky["results"])
    late = api.get("/api/v1/orders/", {"late": "true"}).json()
    assert [o["number"] for o in late["results"]] == [floor["late"].number]
    calm = api.get("/api/v1/orders/", {"at_risk": "false"}).json()
    assert floor["q1"].number in {o["number"] for o in calm["results"]}


def test_detection_queries_are_bounded(floor, django_assert_max_num_queries):
    detect_delays(now=NOW)
    # nothing new: a fixed handful of reads (three of them for what is due to backorders)
    with django_assert_max_num_queries(13):
        detect_delays(now=NOW)
