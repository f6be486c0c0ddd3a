"""Customer e-mails: sent after commit, recorded on the timeline, retried on failure,
never undoing the change that triggered them."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django_q.models import Schedule

from fulfillment.services import shipment_deliver, shipment_ship
from fulfillment.services.booking import shipment_book_and_ship
from fulfillment.tasks import send_customer_notification
from orders.models import Order
from orders.notifications import notifications_muted
from orders.services import order_mark_paid
from returns.services import return_approve, return_receive, return_refund, return_request
from tests import factories as f

pytestmark = pytest.mark.django_db


def sent_events(order):
    return list(
        order.events.filter(kind="note", data__status="sent").values_list(
            "data__notification", flat=True
        )
    )


def test_shipped_email_goes_out_after_commit_with_the_tracking_link(
    carriers, packer, django_capture_on_commit_callbacks, settings
):
    settings.OMS_PUBLIC_URL = "https://shop.example"
    shipment = packer.shipment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        shipment_book_and_ship(shipment=shipment)
    assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    (message,) = mail.outbox
    order = Order.objects.get(pk=shipment.order_id)
    shipment.refresh_from_db()
    assert message.to == ["ana@example.com"]
    assert message.subject == f"Your order {order.number} is on its way"
    assert f"https://shop.example/track/{order.tracking_token}/" in message.body
    assert shipment.tracking_number in message.body and "Correios" in message.body
    assert "Blue T-shirt" in message.body
    html = message.alternatives[0][0]
    assert f"https://correios.example/track/{shipment.tracking_number}" in html
    assert sent_events(order) == ["shipped"]
    event = f.last_event(order, "note")
    assert event.data["to"] == "ana@example.com" and event.data["reference"] == shipment.number
    assert not event.public


def test_a_rolled_back_change_sends_nothing(packer, django_capture_on_commit_callbacks):
    shipment = packer.shipment()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                shipment_ship(shipment=shipment)
                raise RuntimeError("crash after shipping")
        except RuntimeError:
            pass
    assert mail.outbox == []


def test_a_failing_send_keeps_the_shipment_shipped_and_is_retried(
    packer, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "tests.shipping.conftest.FailingEmailBackend"
    shipment = packer.shipment()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_ship(shipment=shipment, carrier="correios", tracking_number="OJ1")
    shipment.refresh_from_db()
    assert shipment.status == "shipped"  # the business change stands
    failure = f.last_event(shipment.order, "note")
    assert failure.data["status"] == "failed" and failure.data["attempt"] == 1
    assert "SMTP server unreachable" in failure.message and "retrying" in failure.message
    retry = Schedule.objects.get(func="fulfillment.tasks.send_customer_notification")
    assert retry.schedule_type == Schedule.ONCE
    assert eval(retry.args) == (shipment.order_id, "shipped", shipment.number, 2)  # noqa: S307

    # The mail server is back: the scheduled retry sends it, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_customer_notification(*eval(retry.args)) == "sent"  # noqa: S307
    assert send_customer_notification(*eval(retry.args)) == "duplicate"  # noqa: S307
    assert len(mail.outbox) == 1
    assert sent_events(shipment.order) == ["shipped"]


def test_the_last_failed_attempt_gives_up(packer, settings):
    settings.EMAIL_BACKEND = "tests.shipping.conftest.FailingEmailBackend"
    shipment = packer.shipment()
    shipment_ship(shipment=shipment)
    assert send_customer_notification(shipment.order_id, "shipped", shipment.number, 4) == "failed"
    assert "giving up" in f.last_event(shipment.order, "note").message
    assert not Schedule.objects.filter(func="fulfillment.tasks.send_customer_notification")


def test_delivered_return_received_and_refund_emails(packer, django_capture_on_commit_callbacks):
    shipment = packer.shipment()
    order = shipment.order
    order_mark_paid(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_ship(shipment=shipment)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_deliver(shipment=shipment)
    line = order.lines.get()
    rma = return_request(order=order, lines=[{"sku": line.sku, "quantity": 1}])
    return_approve(return_request=rma)
    with django_capture_on_commit_callbacks(execute=True):
        return_receive(return_request=rma)
    with django_capture_on_commit_callbacks(execute=True):
        return_refund(return_request=rma)
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        f"Your order {order.number} is on its way",
        f"Your order {order.number} was delivered",
        f"We received your return {rma.number}",
        f"Your refund for order {order.number}",
    ]
    assert f"{Decimal(line.unit_price):.2f} BRL" in mail.outbox[-1].body
    assert sent_events(order) == ["shipped", "delivered", "return_received", "refunded"]


def test_no_email_without_a_customer_or_when_muted(packer, django_capture_on_commit_callbacks):
    shipment = packer.shipment()
    with django_capture_on_commit_callbacks(execute=True), notifications_muted():
        shipment_ship(shipment=shipment)
    assert mail.outbox == []
    Order.objects.filter(pk=shipment.order_id).update(customer=None)
    assert send_customer_notification(shipment.order_id, "shipped", shipment.number) == "skipped"
    assert mail.outbox == []
