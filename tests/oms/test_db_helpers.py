"""oms.db.insert_unless_duplicate and oms.webhooks.subscriptions_read_once."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms import webhooks
from oms.db import insert_unless_duplicate
from oms.models import WebhookSubscription
from orders.models import Channel, Customer, Order
from tests import factories as f
from tests.conftest import postgres_only

pytestmark = pytest.mark.django_db


def _saved_order(code="held"):
    """An order row of a new channel ``code``, written (no lines)."""
    order = Order(
        number=f"SO-{code}",
        channel=Channel.objects.create(code=code, name="Shop"),
        currency="BRL",
        placed_at=timezone.now(),
    )
    assert insert_unless_duplicate(order)
    return order


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

    order = _saved_order("shop")
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
    lookup = lookup.replace("$1", "'ANA@example.com'")  # a prepared read shows placeholders
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
        cursor.execute(f"EXPLAIN {lookup}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_email_upper_idx" in plan, plan


def test_save_fields_updates_only_the_named_fields_and_refuses_a_missing_row():
    from django.db import DatabaseError

    from oms.db import save_fields

    order = _saved_order("shop")
    channel = order.channel
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
    order = _saved_order("shop")
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


@postgres_only
def test_hot_reads_are_prepared_on_the_connection_after_a_few_runs():
    """oms.db.read_cursor: from the threshold on, fetch runs a prepared statement (no
    parse and plan per run) and still returns what the query finds, also after the
    rows change."""
    from oms.db import fetch

    shop = Channel.objects.create(code="prep-shop", name="Shop")
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(threshold + 2):
            [found] = fetch(Channel, "t0.code = %s", ["prep-shop"])
            assert found == shop and found.name == "Shop"
    # the query log (tests' query counts, the debug toolbar) still names each statement
    assert all("orders_channel" in q["sql"] for q in ctx.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ['%FROM "orders_channel" t0 WHERE t0.code = $1'],
        )
        [(runs,)] = cursor.fetchall()
    assert runs >= 2
    Channel.objects.filter(pk=shop.pk).update(name="Renamed")
    [found] = fetch(Channel, "t0.code = %s", ["prep-shop"])
    assert found.name == "Renamed"
    assert fetch(Channel, "t0.code = %s", ["nope"]) == []


@postgres_only
def test_without_a_prepare_threshold_reads_use_the_ordinary_cursor(settings):
    from oms.db import read_cursor

    options = connection.settings_dict["OPTIONS"]
    saved = options["prepare_threshold"]
    options["prepare_threshold"] = None
    try:
        with read_cursor(connection) as cursor:
            assert type(cursor.cursor).__name__ == "Cursor"  # Django's client-side binding
    finally:
        options["prepare_threshold"] = saved
    with read_cursor(connection) as cursor:
        assert type(cursor.cursor).__name__ == "PreparingCursor"


def _event(order, kind="note"):
    from orders.models import OrderEvent

    return OrderEvent(order=order, kind=kind, message="held", actor="test")


@postgres_only  # elsewhere nothing is held
def test_held_writes_go_with_the_next_statement_in_one_round_trip():
    from oms.db import write_together, writes_held
    from orders.models import OrderEvent

    order = _saved_order()
    first, second = _event(order), _event(order)
    with transaction.atomic(), writes_held():
        with CaptureQueriesContext(connection) as ctx:
            write_together(insert=[[first]], wait=False)
            write_together(update=[(order, ["notes"])], wait=False)
        assert ctx.captured_queries == []  # nothing sent yet
        with CaptureQueriesContext(connection) as ctx:
            write_together(insert=[[second]])  # one that waits: the held ones go with it
        assert len(ctx.captured_queries) == 1
        assert first.pk and second.pk and first.pk < second.pk
        third = _event(order)
        write_together(insert=[[third]], wait=False)
        # any other statement (here an ORM read) sees the held write
        assert OrderEvent.objects.filter(pk__gte=first.pk).count() == 3
        fourth = _event(order)
        write_together(insert=[[fourth]], wait=False)
    assert fourth.pk is not None  # the end of the block sent it
    assert OrderEvent.objects.filter(order=order).count() == 4


@postgres_only
def test_a_rolled_back_savepoint_drops_what_was_held_inside_it():
    from oms.db import write_together, writes_held
    from orders.models import OrderEvent

    order = _saved_order()
    kept, dropped = _event(order, "kept"), _event(order, "dropped")
    with transaction.atomic(), writes_held():
        write_together(insert=[[kept]], wait=False)
        try:
            with transaction.atomic():  # the SAVEPOINT sends what was held before it
                write_together(insert=[[dropped]], wait=False)
                raise ValueError("undo")
        except ValueError:
            pass
    assert list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True)) == ["kept"]


@postgres_only
def test_an_error_leaving_the_block_rolls_its_transaction_back():
    from django.db.transaction import TransactionManagementError

    from oms.db import write_together, writes_held
    from orders.models import OrderEvent

    order = _saved_order()
    with transaction.atomic():
        with pytest.raises(ValueError), writes_held():
            write_together(insert=[[_event(order)]], wait=False)
            raise ValueError("boom")
        # the caller caught it, but cannot go on as if half of it had been written
        with pytest.raises(TransactionManagementError):
            OrderEvent.objects.count()
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db(transaction=True)  # autocommit: no test transaction around it
def test_outside_a_transaction_nothing_is_held():
    from oms.db import write_together, writes_held
    from orders.models import OrderEvent

    order = _saved_order()
    event = _event(order)
    with writes_held():
        write_together(insert=[[event]], wait=False)
        assert event.pk is not None
    assert OrderEvent.objects.filter(pk=event.pk).exists()


@postgres_only
def test_drawn_ids_let_rows_and_rows_referring_to_them_be_written_together():
    from fulfillment.models import Shipment
    from oms.db import draw_ids, write_together, writes_held
    from oms.numbering import format_number, sequence_name

    order = _saved_order()
    warehouse = f.make_warehouse("DRAW-1")
    drawn = draw_ids(Shipment, 2, also=sequence_name("shipment"))
    assert len(drawn) == 2 and drawn[0][0] < drawn[1][0] and drawn[0][1] < drawn[1][1]
    with transaction.atomic(), writes_held():
        shipments = [
            Shipment(pk=pk, number=format_number("shipment", n), order=order, warehouse=warehouse)
            for pk, n in drawn
        ]
        write_together(insert=[shipments], wait=False)
        write_together(insert=[[_event(order)]], wait=False)
    stored = Shipment.objects.filter(order=order).order_by("pk")
    assert [(s.pk, s.number) for s in stored] == [(s.pk, s.number) for s in shipments]
    # the identity sequence moved past them: an ordinary insert takes a new id
    later = Shipment.objects.create(number="SH-LATER", order=order, warehouse=warehouse)
    assert later.pk > drawn[-1][0]


@postgres_only
def test_long_multi_statement_writes_are_parsed_once_by_psycopg():
    """oms.db.cache_long_statements (run at startup): the intake's one-round-trip writes
    are longer than psycopg caches by default; the same text is parsed once."""
    from psycopg import _queries

    from oms.db import write_together

    order = _saved_order()
    events = lambda: [_event(order) for _ in range(60)]  # noqa: E731 - 60 rows x 7 params
    write_together(insert=[events()])
    before = _queries._query2pg_client.cache_info().hits
    write_together(insert=[events()])
    assert _queries._query2pg_client.cache_info().hits == before + 1


def test_fetch_gives_rows_joining_the_same_row_one_instance():
    """fetch(related=...): the levels of two products at one warehouse share that
    warehouse's instance (as prefetch_related shares), and every value is read."""
    from inventory.services import stock_lock_levels

    a, b = f.make_product("JOIN-A"), f.make_product("JOIN-B")
    near, far = f.make_warehouse("JOIN-1"), f.make_warehouse("JOIN-2")
    for product in (a, b):
        for warehouse in (near, far):
            f.receive(product, warehouse, 5)
    with transaction.atomic():
        levels = stock_lock_levels(product_ids=[a.pk, b.pk])
    assert len(levels) == 4
    assert levels[(a.pk, near.pk)].warehouse is levels[(b.pk, near.pk)].warehouse
    assert levels[(a.pk, near.pk)].product is levels[(a.pk, far.pk)].product
    assert levels[(a.pk, near.pk)].warehouse is not levels[(a.pk, far.pk)].warehouse
    assert {(lv.product.sku, lv.warehouse.code, lv.on_hand) for lv in levels.values()} == {
        ("JOIN-A", "JOIN-1", 5),
        ("JOIN-A", "JOIN-2", 5),
        ("JOIN-B", "JOIN-1", 5),
        ("JOIN-B", "JOIN-2", 5),
    }
