"""The managers' dashboard on the demo shop: it renders, its numbers equal direct
queries, its query count is bounded."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from demo.seeder import seed_demo
from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment, ShipmentLine
from inventory.forecasting import forecast_refresh
from inventory.models import LowStockAlert
from inventory.replenishment import check_low_stock
from orders.delays import detect_delays
from orders.models import Order, OrderEvent
from returns.models import ReturnLine

pytestmark = pytest.mark.django_db


def _login(client, group: str) -> None:
    user = User.objects.create_user(f"{group}-user", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)


def test_dashboard_on_the_demo_shop(client, django_assert_max_num_queries):
    seed_demo()
    forecast_refresh()
    check_low_stock()
    detect_delays()
    _login(client, "manager")

    with django_assert_max_num_queries(25):
        response = client.get("/dashboard/")
    assert response.status_code == 200
    body = response.content.decode()
    ctx = response.context
    now = ctx["now"]
    today = timezone.localdate(now)

    # orders per day by channel: every order of the last 90 days, one bar segment per
    # (day, channel) with orders
    first = today - timedelta(days=89)
    recent = Order.objects.filter(placed_at__date__gte=first, placed_at__date__lte=today)
    assert ctx["chart"]["total"] == recent.count() > 0
    pairs = {(o.placed_at.date(), o.channel_id) for o in recent}
    assert len(ctx["chart"]["bars"]) == len(pairs)
    assert {c["code"]: c["total"] for c in ctx["chart"]["legend"]} == {
        code: recent.filter(channel__code=code).count()
        for code in set(recent.values_list("channel__code", flat=True))
    }
    assert "<svg" in body and "<rect" in body

    # backlog
    for row in ctx["backlog"]["orders"]:
        assert row["n"] == Order.objects.filter(status=row["status"]).count()
        assert f'href="/orders/?status={row["status"]}"' in body
    assert (
        ctx["backlog"]["shipments_total"]
        == Shipment.objects.filter(status__in=OPEN_SHIPMENT_STATUSES).count()
    )

    # on-time ship rate, last 30 days
    shipped = [
        s
        for s in Shipment.objects.select_related("order")
        if s.shipped_at and now - timedelta(days=30) <= s.shipped_at <= now
    ]
    on_time = sum(1 for s in shipped if s.shipped_at <= s.order.ship_by)
    assert (ctx["on_time"]["shipped"], ctx["on_time"]["on_time"]) == (len(shipped), on_time)
    assert ctx["on_time"]["shipped"] > 0

    # fill rate: confirmed in 30 days, no backorder within 10 minutes of confirmation
    confirmed = Order.objects.filter(confirmed_at__gte=now - timedelta(days=30))
    short = {
        e.order_id
        for e in OrderEvent.objects.filter(kind="backordered").select_related("order")
        if e.order.confirmed_at and e.created_at <= e.order.confirmed_at + timedelta(minutes=10)
    }
    assert ctx["fill"]["confirmed"] == confirmed.count() > 0
    assert ctx["fill"]["first_try"] == sum(1 for o in confirmed if o.pk not in short)

    # delays
    assert ctx["delays"]["at_risk"] == Order.objects.filter(at_risk=True).count() > 0
    assert ctx["delays"]["late"] == Order.objects.filter(late=True).count()
    assert 'href="/orders/?at_risk=true"' in body and 'href="/orders/?late=true"' in body

    # returns, last 90 days
    since = now - timedelta(days=90)
    lines = [
        rl
        for rl in ReturnLine.objects.select_related("return_request")
        if rl.return_request.created_at >= since and rl.return_request.status != "rejected"
    ]
    units_shipped = sum(
        sl.quantity
        for sl in ShipmentLine.objects.select_related("shipment")
        if sl.shipment.shipped_at and sl.shipment.shipped_at >= since
    )
    assert ctx["returns"]["returned"] == sum(rl.quantity for rl in lines) > 0
    assert ctx["returns"]["shipped"] == units_shipped
    top = ctx["returns"]["reasons"][0]
    assert top["units"] == max(
        sum(rl.quantity for rl in lines if rl.reason == reason)
        for reason in {rl.reason for rl in lines}
    )

    # low stock
    assert ctx["low_stock"]["count"] == LowStockAlert.objects.filter(status="open").count() > 0
    assert 'href="/replenishment/?low=true"' in body


def test_dashboard_is_for_managers(client):
    assert client.get("/dashboard/").status_code == 302
    _login(client, "warehouse")
    assert client.get("/dashboard/").status_code == 403
