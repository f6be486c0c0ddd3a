"""Order pages for managers: the list's filters and search, the detail and its actions."""

from datetime import UTC, datetime

import pytest

from fulfillment.models import Shipment
from orders.models import Order
from tests.factories import make_warehouse, receive
from tests.floor.conftest import flash

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    return [o.number for o in response.context["page"]]


@pytest.fixture
def orders(floor):
    """Three orders: a pending one from ``api``, a confirmed one from ``web`` (SP-01) and
    a confirmed one shipping from RJ-01 (P001 only there)."""
    from tests.factories import place

    p0, p1, p2 = floor.products
    pending = place(
        [(p0, 1)],
        channel_code="api",
        external_id="EXT-9",
        customer={"email": "bia@example.com", "name": "Bia Souza"},
        placed_at=datetime(2026, 1, 5, 10, tzinfo=UTC),
    )
    confirmed = floor.order([(p2, 1)], placed_at=datetime(2026, 1, 10, 10, tzinfo=UTC))
    rj = make_warehouse("RJ-01", priority=0)
    receive(p1, rj, 5)
    at_rj = floor.order([(p1, 1)], placed_at=datetime(2026, 1, 20, 10, tzinfo=UTC))
    return pending, confirmed, at_rj


def test_list_is_newest_first_and_paginated(manager_client, orders, monkeypatch):
    monkeypatch.setattr("orders.views.PAGE_SIZE", 2)
    response = manager_client.get("/orders/")
    assert numbers(response) == [orders[2].number, orders[1].number]
    assert numbers(manager_client.get("/orders/?page=2")) == [orders[0].number]


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"status": "pending"}, [0]),
        ({"status": "confirmed"}, [2, 1]),
        ({"channel": "api"}, [0]),
        ({"warehouse": "RJ-01"}, [2]),
        ({"placed_from": "2026-01-06", "placed_to": "2026-01-10"}, [1]),
        ({"q": "EXT-9"}, [0]),
        ({"q": "bia souza"}, [0]),
        ({"q": "bia@example.com"}, [0]),
        ({"q": "p002"}, [1]),
    ],
)
def test_filters_and_search(manager_client, orders, query, expected):
    assert numbers(manager_client.get("/orders/", query)) == [orders[i].number for i in expected]


def test_search_by_order_number(manager_client, orders):
    response = manager_client.get("/orders/", {"q": orders[1].number.lower()})
    assert numbers(response) == [orders[1].number]


def test_detail_shows_lines_shipments_and_timeline(manager_client, orders):
    order = orders[1]
    html = manager_client.get(f"/orders/{order.number}/").content.decode()
    shipment = order.shipments.get()
    assert "P002" in html and shipment.number in html and "Routed by" in html
    assert "Hold reason" in html and "Cancel order" in html and "Re-route" in html
    assert "Confirm and route" not in html and "Release the hold" not in html


def test_confirm_routes_the_order(manager_client, orders):
    pending = orders[0]
    response = manager_client.post(f"/orders/{pending.number}/confirm/", follow=True)
    assert "confirmed; allocation allocated" in flash(response).lower()
    pending.refresh_from_db()
    assert pending.status == Order.Status.CONFIRMED
    assert pending.shipments.count() == 1


def test_hold_needs_a_reason_then_release(manager_client, orders):
    order = orders[1]
    response = manager_client.post(f"/orders/{order.number}/hold/", {"reason": " "}, follow=True)
    assert "Say why the order is held" in flash(response)
    manager_client.post(f"/orders/{order.number}/hold/", {"reason": "fraud check"})
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "fraud check")
    html = manager_client.get(f"/orders/{order.number}/").content.decode()
    assert "On hold: fraud check" in html and "Release the hold" in html
    manager_client.post(f"/orders/{order.number}/release/")
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_cancel_releases_the_stock(floor, manager_client, orders):
    order = orders[1]
    manager_client.post(f"/orders/{order.number}/cancel/", {"reason": "customer asked"})
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Order.Status.CANCELLED, "customer asked")
    assert order.shipments.get().status == Shipment.Status.CANCELLED


def test_a_refused_move_shows_the_domain_error(manager_client, orders):
    order = orders[1]
    response = manager_client.post(f"/orders/{order.number}/release/", follow=True)
    assert f"Order {order.number} is confirmed; cannot release" in flash(response)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_reroute_to_a_chosen_point(floor, manager_client, orders):
    order = orders[2]  # P001 at RJ-01; SP-01 has 50 too
    old = order.shipments.get()
    response = manager_client.post(
        f"/orders/{order.number}/reroute/",
        {"shipment": old.number, "warehouse": "SP-01", "reason": "store closed"},
        follow=True,
    )
    assert f"{old.number} re-routed" in flash(response)
    old.refresh_from_db()
    assert old.status == Shipment.Status.CANCELLED
    assert order.shipments.get(status="allocated").warehouse.code == "SP-01"


def test_reroute_without_stock_at_the_target_is_refused(floor, manager_client, orders):
    order = orders[1]  # P002 only at SP-01
    make_warehouse("PR-01", priority=9)
    shipment = order.shipments.get()
    response = manager_client.post(
        f"/orders/{order.number}/reroute/",
        {"shipment": shipment.number, "warehouse": "PR-01", "reason": "test"},
        follow=True,
    )
    assert f"PR-01 cannot take {shipment.number}" in flash(response)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.ALLOCATED
