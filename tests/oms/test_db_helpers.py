"""oms.db.insert_unless_duplicate and oms.webhooks.subscriptions_read_once."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms import webhooks
from oms.db import insert_unless_duplicate
from oms.models import WebhookSubscription
from orders.models import Channel, Customer, Order
from tests.conftest import postgres_only

pytestmark = pytest.mark.django_db


def test_insert_unless_duplicate_writes_once_and_leaves_the_transaction_usable():
    first = Customer(email="ana@example.com", name="Ana")
    assert insert_unless_duplicate(first) is True
    assert first.pk and not first._state.adding
    again = Customer(email="ana@example.com", name="Other")
    assert insert_unless_duplicate(again) is False
    assert again.pk is None
    # no error was raised, so the surrounding transaction goes on
    assert list(Customer.objects.values_list("email", "name")) == [("ana@example.com", "Ana")]


def test_insert_unless_duplicate_sets_database_returned_fields_as_a_query_would():
    order = Order(
        number="SO-TEST-1",
        channel=Channel.objects.create(code="shop", name="Shop"),
        external_id="X-1",
        currency="BRL",
        placed_at=timezone.now(),
    )
    assert insert_unless_duplicate(order) is True
    stored = Order.objects.get(pk=order.pk)
    assert (order.at_risk, order.late) == (stored.at_risk, stored.late) == (False, False)
    assert order.created_at == stored.created_at  # auto_now_add ran (pre_save)


@postgres_only  # ON CONFLICT DO NOTHING skips unique violations only
def test_insert_unless_duplicate_raises_for_other_violations():
    incomplete = Order(number="SO-TEST-2", channel=Channel.objects.create(code="s2", name="S"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_duplicate(incomplete)  # no placed_at: NOT NULL


def test_subscriptions_are_read_once_inside_the_block_and_every_time_outside():
    WebhookSubscription.objects.create(url="https://example.com/hook", event_types=["*"])

    def reads(block):
        with CaptureQueriesContext(connection) as ctx:
            block()
        return sum("oms_webhooksubscription" in q["sql"] for q in ctx.captured_queries)

    def two_events():
        webhooks.publish("order.created", {"number": "A"})
        webhooks.publish("order.confirmed", {"number": "A"})

    def in_block():
        with webhooks.subscriptions_read_once():
            two_events()
            with webhooks.subscriptions_read_once():  # nested: shares the outer read
                webhooks.publish("order.cancelled", {"number": "A"})

    assert reads(two_events) == 2
    assert reads(in_block) == 1
    assert reads(two_events) == 2  # the block's read is gone with the block
