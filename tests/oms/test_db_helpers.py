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


def test_insert_new_and_update_column_write_what_bulk_create_and_bulk_update_would():
    """insert_new: pks, auto_now_add and JSON written as bulk_create writes them;
    update_column: one field of saved rows, as bulk_update(objs, [name])."""
    from decimal import Decimal

    from inventory.models import Product
    from oms.db import insert_new, update_column
    from orders.models import OrderEvent, OrderLine

    channel = Channel.objects.create(code="shop", name="Shop")
    order = Order(number="SO-T", channel=channel, currency="BRL", placed_at=timezone.now())
    assert insert_unless_duplicate(order)
    product = Product.objects.create(sku="P-1", name="Thing", price="3.50")
    lines = insert_new(
        [
            OrderLine(
                order=order,
                product=product,
                sku="P-1",
                name="Thing",
                quantity=q,
                unit_price=Decimal("3.5"),
            )
            for q in (1, 2, 3)
        ]
    )
    events = insert_new(
        [OrderEvent(order=order, kind="placed", message="m", data={"a": [1, "é"]}, actor="t")]
    )
    assert all(ln.pk and not ln._state.adding for ln in lines) and events[0].created_at
    stored = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
    assert sorted(stored) == [ln.pk for ln in lines]
    assert [(stored[ln.pk].quantity, stored[ln.pk].unit_price) for ln in lines] == [
        (1, Decimal("3.50")),
        (2, Decimal("3.50")),
        (3, Decimal("3.50")),
    ]
    event = OrderEvent.objects.get(pk=events[0].pk)
    assert (event.data, event.created_at) == ({"a": [1, "é"]}, events[0].created_at)

    for ln in lines:
        ln.quantity_allocated = ln.quantity - 1
    update_column(lines, "quantity_allocated")
    assert dict(OrderLine.objects.values_list("pk", "quantity_allocated")) == {
        ln.pk: ln.quantity - 1 for ln in lines
    }
    assert insert_new([]) == []


@postgres_only
def test_the_customer_lookup_of_placement_can_use_an_index():
    """customer_upsert finds the customer by e-mail case-insensitively; the expression
    index on UPPER(email) must match the statement it runs, or every placement scans
    every customer."""
    from orders.services import customer_upsert

    Customer.objects.create(email="ana@example.com")
    with CaptureQueriesContext(connection) as ctx:
        assert customer_upsert(email="ANA@example.com").email == "ana@example.com"
    [lookup] = [q["sql"] for q in ctx.captured_queries if "orders_customer" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
        cursor.execute(f"EXPLAIN {lookup}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_email_upper_idx" in plan, plan


def test_save_fields_updates_only_the_named_fields_and_refuses_a_missing_row():
    from django.db import DatabaseError

    from oms.db import save_fields

    channel = Channel.objects.create(code="shop", name="Shop")
    order = Order(number="SO-S", channel=channel, currency="BRL", placed_at=timezone.now())
    assert insert_unless_duplicate(order)
    before = order.updated_at
    Order.objects.filter(pk=order.pk).update(notes="kept")  # changed behind our back
    order.status, order.notes = "confirmed", "not written"
    save_fields(order, ["status", "updated_at"])
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.notes) == ("confirmed", "kept")
    assert stored.updated_at == order.updated_at and order.updated_at >= before  # auto_now
    ghost = Order(pk=order.pk + 1000, number="SO-GHOST", channel=channel, currency="BRL")
    with pytest.raises(DatabaseError), transaction.atomic():
        save_fields(ghost, ["status"])


@pytest.mark.parametrize("client_binding", [True, False])
def test_write_together_inserts_and_updates_in_one_round_trip_on_postgresql(
    monkeypatch, client_binding
):
    from inventory.models import Product
    from oms import db as oms_db
    from oms.db import write_together
    from orders.models import OrderEvent, OrderLine

    if not client_binding:  # as with server-side binding: one execute per statement
        monkeypatch.setattr(oms_db, "_binds_on_client", lambda cursor: False)
    channel = Channel.objects.create(code="shop", name="Shop")
    order = Order(number="SO-W", channel=channel, currency="BRL", placed_at=timezone.now())
    assert insert_unless_duplicate(order)
    product = Product.objects.create(sku="P-W", name="W", price="1.00")
    line = OrderLine(order=order, product=product, sku="P-W", name="W", quantity=4, unit_price=1)
    write_together(insert=[[line]])
    events = [OrderEvent(order=order, kind=k, message=k, actor="t") for k in ("a", "b")]
    order.status, line.quantity_allocated = "confirmed", 3
    with CaptureQueriesContext(connection) as ctx:
        write_together(
            insert=[events, []],
            update=[(order, ["status", "updated_at"])],
            columns=[([line], "quantity_allocated")],
        )
    one_trip = connection.vendor == "postgresql" and client_binding
    assert len(ctx.captured_queries) == (1 if one_trip else 3)
    assert [e.pk is not None for e in events] == [True, True]
    assert list(order.events.order_by("pk").values_list("pk", "kind")) == [
        (events[0].pk, "a"),
        (events[1].pk, "b"),
    ]
    assert Order.objects.get(pk=order.pk).status == "confirmed"
    assert OrderLine.objects.get(pk=line.pk).quantity_allocated == 3
