"""Outgoing webhooks: the outbox is written with the change, delivered after commit to a
real HTTP receiver, signed, retried with backoff, logged, redeliverable."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from fulfillment.services import order_cancel_and_release, shipment_deliver, shipment_ship
from kernel import webhooks
from kernel.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from orders.services import order_hold
from returns.services import return_approve, return_receive, return_refund, return_request
from tests import factories as f

SECRET = "whsec_test_0123456789abcdef"


def subscribe(url, events=("*",), **kw) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        url=url, secret=SECRET, event_types=list(events), **kw
    )


def verified(request) -> dict:
    """What a receiver does: check the signature over the raw body, then parse it."""
    assert webhooks.signature_valid(SECRET, request.body, request.headers["X-OMS-Signature"])
    assert request.headers["X-OMS-Signature"].startswith("sha256=")
    body = json.loads(request.body)
    assert request.headers["X-OMS-Event"] == body["type"]
    return body


def attempts(**filters) -> list[tuple]:
    return list(
        WebhookDelivery.objects.filter(**filters)
        .order_by("attempt")
        .values_list("attempt", "status", "status_code")
    )


@pytest.fixture
def stock(db):
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    f.receive(shirt, wh, 10)
    return shirt


@pytest.mark.django_db
def test_receiver_gets_signed_events_in_order(
    stock, receiver, fast_retries, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["order.created", "order.confirmed", "order.on_hold"])

    with django_capture_on_commit_callbacks(execute=True):
        order = f.place([(stock, 2)], external_id="W-1")
    with django_capture_on_commit_callbacks(execute=True):
        f.confirm(order)
    with django_capture_on_commit_callbacks(execute=True):
        order_hold(order=order, reason="address check")

    assert receiver.events() == ["order.created", "order.confirmed", "order.on_hold"]
    bodies = [verified(r) for r in receiver.requests]
    assert [b["data"]["status"] for b in bodies] == ["pending", "confirmed", "on_hold"]
    assert all(b["data"]["number"] == order.number for b in bodies)
    assert bodies[0]["data"]["lines"][0]["sku"] == "TSHIRT-M"
    assert bodies[0]["data"]["total"] == str(order.total)
    first = bodies[0]
    assert set(first) == {"id", "type", "timestamp", "sequence", "data"}
    assert first["id"] == str(WebhookEvent.objects.get(event_type="order.created").uuid)
    assert [b["sequence"] for b in bodies] == sorted(b["sequence"] for b in bodies)
    assert receiver.requests[0].path == "/hooks/oms"
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    log = WebhookDelivery.objects.order_by("id")
    assert [(d.status, d.status_code, d.attempt) for d in log] == [("succeeded", 200, 1)] * 3
    assert all(d.latency_ms is not None and d.finished_at for d in log)


@pytest.mark.django_db
def test_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    stock, receiver, fast_retries, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["order.created"])
    receiver.script = [500, 503]

    with django_capture_on_commit_callbacks(execute=True):
        f.place([(stock, 1)], external_id="W-2")

    assert [r.headers["X-OMS-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    keys = {r.headers["X-OMS-Delivery"] for r in receiver.requests}
    assert len(keys) == 1  # the same delivery id on every attempt
    assert len({r.body for r in receiver.requests}) == 1  # the same signed bytes
    verified(receiver.requests[-1])
    assert attempts() == [(1, "failed", 500), (2, "failed", 503), (3, "succeeded", 200)]
    assert WebhookDelivery.objects.get(attempt=1).error == "HTTP 500"


@pytest.mark.django_db
def test_a_timeout_counts_as_a_failure_and_is_retried(
    stock, receiver, fast_retries, django_capture_on_commit_callbacks
):
    fast_retries.OMS_WEBHOOK_TIMEOUT_SECONDS = 0.3
    subscribe(receiver.url, ["order.created"])
    receiver.delays = [1.0]  # the first answer comes too late, the second at once

    with django_capture_on_commit_callbacks(execute=True):
        order = f.place([(stock, 1)], external_id="W-3")

    first = WebhookDelivery.objects.get(attempt=1)
    assert first.status == "failed" and first.error.startswith("timed out")
    assert attempts()[-1][1] == "succeeded"
    assert order.number in receiver.requests[-1].body.decode()


@pytest.mark.django_db
def test_attempts_are_bounded(stock, receiver, fast_retries, django_capture_on_commit_callbacks):
    fast_retries.OMS_WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(receiver.url, ["order.created"])
    receiver.script = [500] * 10

    with django_capture_on_commit_callbacks(execute=True):
        f.place([(stock, 1)], external_id="W-4")

    assert attempts() == [(1, "failed", 500), (2, "failed", 500), (3, "failed", 500)]
    assert len(receiver.requests) == 3


@pytest.mark.django_db
def test_a_retry_with_backoff_is_scheduled_with_django_q(
    stock, receiver, settings, django_capture_on_commit_callbacks
):
    settings.OMS_WEBHOOK_BACKOFF_SECONDS = 30
    subscribe(receiver.url, ["order.created"])
    receiver.script = [500]

    with django_capture_on_commit_callbacks(execute=True):
        f.place([(stock, 1)], external_id="W-5")

    second = WebhookDelivery.objects.get(attempt=2)
    assert second.status == "scheduled"
    assert timedelta(seconds=25) < second.due_at - timezone.now() <= timedelta(seconds=30)
    schedule = Schedule.objects.get(func="oms.tasks.webhook_deliver")
    assert (schedule.args, schedule.schedule_type) == (repr(second.pk), Schedule.ONCE)
    assert schedule.next_run == second.due_at
    assert len(receiver.requests) == 1
    # When the schedule fires, the attempt is made.
    assert webhooks.deliver(second.pk) == "succeeded"
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_a_task_run_again_records_and_sends_nothing(
    stock, receiver, fast_retries, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        f.place([(stock, 1)], external_id="W-6")
    delivery = WebhookDelivery.objects.get()

    assert webhooks.deliver(delivery.pk) == "succeeded"

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_an_attempt_left_sending_by_a_dead_worker_is_closed_and_retried(
    stock, receiver, fast_retries, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["order.created"])
    with django_capture_on_commit_callbacks():  # committed, but the task never ran
        f.place([(stock, 1)], external_id="W-7")
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", started_at=timezone.now() - timedelta(minutes=10)
    )

    with django_capture_on_commit_callbacks(execute=True):
        # the re-run closes the orphan and sends nothing; its successor is queued
        assert webhooks.deliver(delivery.pk) == "failed"
        assert receiver.requests == []

    assert attempts() == [(1, "failed", None), (2, "succeeded", 200)]
    assert "interrupted" in WebhookDelivery.objects.get(attempt=1).error
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_sweep_requeues_an_attempt_whose_task_was_lost(stock, receiver, fast_retries):
    subscribe(receiver.url, ["order.created"])
    f.place([(stock, 1)], external_id="W-8")  # the test transaction never commits
    WebhookDelivery.objects.update(due_at=timezone.now() - timedelta(minutes=5))

    assert webhooks.sweep() == {"closed": 0, "requeued": 1}

    assert attempts() == [(1, "succeeded", 200)]
    assert receiver.events() == ["order.created"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(stock, receiver, fast_retries):
    subscribe(receiver.url, ["order.created"])

    with pytest.raises(RuntimeError), transaction.atomic():
        f.place([(stock, 1)], external_id="ROLLED-BACK")
        assert WebhookEvent.objects.count() == 1  # the outbox row, inside the transaction
        raise RuntimeError("something later in the request failed")

    assert WebhookEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []
    # the same change committed is delivered
    f.place([(stock, 1)], external_id="COMMITTED")
    assert [verified(r)["data"]["external_id"] for r in receiver.requests] == ["COMMITTED"]


@pytest.mark.django_db
def test_nothing_is_stored_when_nobody_subscribed(stock, receiver):
    subscribe(receiver.url, ["refund.created"])
    WebhookSubscription.objects.create(url=receiver.url, event_types=["*"], active=False)

    f.place([(stock, 1)], external_id="W-9")

    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_every_lifecycle_event_is_published_from_the_services(stock):
    subscribe("http://127.0.0.1:9/never-called")
    order = f.place([(stock, 2)], external_id="W-10")
    f.confirm(order)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment, tracking_number="TRK-1")
    shipment_deliver(shipment=shipment)
    from orders.services import order_mark_paid

    order_mark_paid(order=order)
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    return_approve(return_request=rma)
    return_receive(return_request=rma)
    return_refund(return_request=rma)
    other = f.place([(stock, 1)], external_id="W-11")
    order_cancel_and_release(order=other, reason="customer")

    events = list(WebhookEvent.objects.order_by("id").values_list("event_type", flat=True))
    assert events == [
        "order.created",
        "order.confirmed",
        "shipment.shipped",
        "shipment.delivered",
        "return.requested",
        "return.received",
        "refund.created",
        "order.created",
        "order.cancelled",
    ]
    shipped = WebhookEvent.objects.get(event_type="shipment.shipped").payload
    assert (shipped["number"], shipped["order"], shipped["tracking_number"]) == (
        shipment.number,
        order.number,
        "TRK-1",
    )
    refund = WebhookEvent.objects.get(event_type="refund.created").payload
    assert (refund["order"], refund["return"], refund["amount"]) == (
        order.number,
        rma.number,
        "19.90",
    )


@pytest.mark.django_db
def test_at_risk_and_low_stock_are_published_from_their_hooks(stock):
    from inventory.models import StockLevel
    from inventory.replenishment import check_low_stock
    from orders.delays import flag_at_risk

    subscribe("http://127.0.0.1:9/never-called", ["order.at_risk", "stock.low"])
    order = f.place([(stock, 1)], external_id="RISK-1")
    StockLevel.objects.filter(product=stock).update(reorder_point=50)

    flag_at_risk(order=order, reason="ship-by in 2 hours")
    check_low_stock()

    risk = WebhookEvent.objects.get(event_type="order.at_risk").payload
    assert (risk["number"], risk["at_risk_reason"]) == (order.number, "ship-by in 2 hours")
    low = WebhookEvent.objects.get(event_type="stock.low").payload
    assert (low["sku"], low["available"], low["reorder_point"]) == ("TSHIRT-M", 10, 50)
