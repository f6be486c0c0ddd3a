"""Backordered lines know when their stock is due: the order page says "expected 9 Dec"
and delay detection projects the ship date from it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inventory.models import Supplier
from inventory.purchasing import purchase_order_create, purchase_order_send
from orders.delays import detect_delays
from orders.models import Order
from orders.selectors import backorder_expected_dates
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting():
    """Two confirmed orders of 3 MUG each, nothing in stock; a PO of 4 due in 6 days and
    another of 10 due in 12."""
    wh = f.make_warehouse("SP-01", priority=1)
    mug = f.make_product("MUG-BLU")
    now = timezone.now()
    older = f.confirm(f.place([(mug, 3)], placed_at=now - timedelta(hours=5)))
    newer = f.confirm(f.place([(mug, 3)], placed_at=now - timedelta(hours=1)))
    supplier = Supplier.objects.create(code="ACME", name="Acme")
    today = timezone.localdate()
    for quantity, days in ((4, 6), (10, 12)):
        po = purchase_order_create(
            supplier=supplier,
            warehouse=wh,
            expected_date=today + timedelta(days=days),
            lines=[{"product": mug, "quantity": quantity}],
        )
        purchase_order_send(purchase_order=po)
    return older, newer, today


def test_oldest_backorder_gets_the_first_delivery(waiting):
    older, newer, today = waiting
    dates = backorder_expected_dates()
    assert dates == {
        older.lines.get().pk: today + timedelta(days=6),
        newer.lines.get().pk: today + timedelta(days=12),  # 1 of the first, 2 of the second
    }


def test_order_page_shows_the_expected_date_of_a_backordered_line(waiting, client):
    older, _, today = waiting
    user = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    body = client.get(f"/orders/{older.number}/").content.decode()
    day = today + timedelta(days=6)
    assert f"expected {day:%d %b}" in body  # SHORT_DATE_FORMAT


def test_delay_detection_projects_a_backordered_order_to_its_expected_date(waiting):
    older, newer, today = waiting
    detect_delays()
    older = Order.objects.get(pk=older.pk)
    day = today + timedelta(days=6)
    assert older.at_risk  # due after its ship-by date
    assert older.projected_ship_date == day
    event = f.last_event(older, "at_risk")
    assert "(purchase orders and transfers due)" in event.message
    lone = f.confirm(f.place([(f.make_product("GHOST", lead_time_days=30), 1)]))
    detect_delays()
    event = f.last_event(Order.objects.get(pk=lone.pk), "at_risk")
    assert "(lead time 30 business days)" in event.message


def test_the_backorder_event_names_the_next_delivery_due(waiting):
    older, _, today = waiting
    assert "Next due" not in f.last_event(older, "backordered").message  # before the POs
    mug = older.lines.get().product
    later = f.confirm(f.place([(mug, 1)]))
    event = f.last_event(later, "backordered")
    day = today + timedelta(days=6)
    assert "Next due: MUG-BLU 4 on PO-" in event.message
    assert f"expected {day.day} {day:%b}" in event.message
    assert event.data["due"]["MUG-BLU"]["date"] == day.isoformat()
