"""kernel.db's three named statements (insert_new, insert_unless_duplicate, save_fields),
each against what the ORM call it stands for writes and reads, and
kernel.webhooks.subscriptions_read_once."""

from datetime import UTC
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kernel import webhooks
from kernel.db import insert_unless_duplicate
from kernel.models import WebhookSubscription
from orders.models import Channel, Customer, Order
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


def _concrete(obj, skip=("id",)) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in skip
    }


def _order(number: str, channel, customer=None, when=None) -> Order:
    return Order(
        number=number,
        channel=channel,
        customer=customer,  # a nullable foreign key, set and unset
        currency="BRL",
        placed_at=when or timezone.now(),
        ship_by=None,
        total=Decimal("12.30"),
        notes="é ünïcode",
    )


@pytest.mark.parametrize("with_customer", [True, False])
def test_insert_new_writes_and_returns_what_bulk_create_does(with_customer):
    """Nullable foreign key (set and None), JSON, datetimes (auto_now_add and given),
    decimals: the row insert_new writes and the instance it leaves equal bulk_create's
    row and instance, field for field, and what a query reads back."""
    from datetime import datetime

    from kernel.db import insert_new
    from orders.models import OrderEvent

    channel = Channel.objects.create(code="eq", name="Shop")
    customer = Customer.objects.create(email="eq@example.com") if with_customer else None
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    ours = insert_new([_order("SO-EQ-A", channel, customer, when)])[0]
    orms = Order.objects.bulk_create([_order("SO-EQ-B", channel, customer, when)])[0]
    skip = ("id", "number", "tracking_token", "created_at", "updated_at")
    assert ours.pk and not ours._state.adding and ours._state.db == "default"
    assert _concrete(ours, skip) == _concrete(orms, skip)
    for obj in (ours, orms):
        stored = Order.objects.get(pk=obj.pk)
        assert _concrete(stored, skip) == _concrete(obj, skip)
        assert stored.created_at == obj.created_at and stored.placed_at == when
        assert stored.customer_id == (customer.pk if customer else None)

    data = {"a": [1, "é", None], "nested": {"ok": True}, "n": 1.5}
    mine = insert_new([OrderEvent(order=ours, kind="note", data=data, actor="t")])[0]
    theirs = OrderEvent.objects.bulk_create([OrderEvent(order=orms, kind="note", data=data)])[0]
    for event in (mine, theirs):
        stored = OrderEvent.objects.get(pk=event.pk)
        assert (stored.data, stored.created_at) == (data, event.created_at)
    assert insert_new([]) == []


def test_insert_new_writes_many_rows_in_the_order_given():
    from decimal import Decimal

    from inventory.models import Product
    from kernel.db import insert_new
    from orders.models import OrderLine

    order = _saved_order("many")
    product = Product.objects.create(sku="P-1", name="Thing", price="3.50")
    lines = insert_new(
        [
            OrderLine(
                order=order,
                product=product,
                sku="P-1",
                name="T",
                quantity=q,
                unit_price=Decimal("3.5"),
            )
            for q in (1, 2, 3)
        ]
    )
    stored = list(OrderLine.objects.filter(order=order).order_by("pk"))
    assert [ln.pk for ln in stored] == [ln.pk for ln in lines]
    assert [(ln.quantity, ln.unit_price) for ln in stored] == [
        (1, Decimal("3.50")),
        (2, Decimal("3.50")),
        (3, Decimal("3.50")),
    ]


def test_save_fields_writes_what_save_update_fields_does():
    """A nullable foreign key cleared, a datetime and a JSON-free text: the row after
    save_fields equals the row after save(update_fields=...) of the same change."""
    from datetime import datetime

    from kernel.db import save_fields

    channel = Channel.objects.create(code="sf", name="Shop")
    customer = Customer.objects.create(email="sf@example.com")
    placed = timezone.now()
    a, b = (_order(n, channel, customer, placed) for n in ("SO-SF-A", "SO-SF-B"))
    a.save()
    b.save()
    when = datetime(2026, 5, 2, 8, 0, 0, 999, tzinfo=UTC)
    for obj in (a, b):
        obj.customer, obj.confirmed_at, obj.status = None, when, "confirmed"
    fields = ["customer", "confirmed_at", "status", "updated_at"]
    save_fields(a, fields)
    b.save(update_fields=fields)
    skip = ("id", "number", "tracking_token", "created_at", "updated_at")
    fresh_a, fresh_b = Order.objects.get(pk=a.pk), Order.objects.get(pk=b.pk)
    assert _concrete(fresh_a, skip) == _concrete(fresh_b, skip)
    assert (fresh_a.customer_id, fresh_a.confirmed_at) == (None, when)
    assert fresh_a.updated_at == a.updated_at  # auto_now ran


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

    from kernel.db import save_fields

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


def test_save_fields_of_several_rows_writes_what_bulk_update_does():
    """Several instances in one UPDATE ... FROM (VALUES ...): the rows equal those
    bulk_update writes for the same change (integers, a nullable foreign key cleared, a
    datetime), other fields untouched, and a missing row refused."""
    from datetime import datetime

    from django.db import DatabaseError

    from kernel.db import save_fields

    channel = Channel.objects.create(code="many", name="Shop")
    customer = Customer.objects.create(email="many@example.com")
    when = datetime(2026, 7, 1, 9, 30, 0, 42, tzinfo=UTC)
    placed = timezone.now()
    ours = [_order(f"SO-M-{i}", channel, customer, placed) for i in range(3)]
    orms = [_order(f"SO-O-{i}", channel, customer, placed) for i in range(3)]
    for obj in (*ours, *orms):
        obj.save()
    for i, obj in enumerate((*ours, *orms)):
        obj.customer, obj.confirmed_at, obj.notes = None, when, f"written {i % 3}"
    Order.objects.filter(pk__in=[o.pk for o in (*ours, *orms)]).update(status="confirmed")
    fields = ["customer", "confirmed_at", "notes"]
    save_fields(ours, fields)
    Order.objects.bulk_update(orms, fields)
    skip = ("id", "number", "tracking_token", "created_at", "updated_at")
    for mine, theirs in zip(ours, orms, strict=True):
        a, b = Order.objects.get(pk=mine.pk), Order.objects.get(pk=theirs.pk)
        assert _concrete(a, skip) == _concrete(b, skip)
        assert (a.customer_id, a.confirmed_at, a.status) == (None, when, "confirmed")
    ghost = Order(pk=ours[-1].pk + 1000, number="SO-GHOST", channel=channel, currency="BRL")
    if connection.vendor == "postgresql":  # bulk_update elsewhere: it ignores missing rows
        with pytest.raises(DatabaseError), transaction.atomic():
            save_fields([ours[0], ghost], ["notes"])
    save_fields([], ["notes"])  # nothing to write: no statement


def _stock_world():
    from inventory.models import Product, StockLevel, Warehouse

    whs = [Warehouse.objects.create(code=f"W-{i}", name="é", priority=i) for i in range(2)]
    products = [Product.objects.create(sku=f"RW-{i}", name="ü", price="2.50") for i in range(3)]
    for p in products:
        for w in whs:
            StockLevel.objects.create(product=p, warehouse=w, on_hand=7, reserved=2)
    return products


def test_rows_where_reads_what_the_queryset_reads_with_its_related_rows():
    """The instances equal the ORM's, field for field (datetimes, decimals, booleans),
    in primary-key order, with their related rows attached so reading them queries
    nothing; locked inside a transaction as select_for_update(of=self) locks."""
    from inventory.models import StockLevel
    from kernel.db import rows_where

    products = _stock_world()
    wanted = [products[2].pk, products[0].pk, products[0].pk]  # order and repeats ignored
    with transaction.atomic():
        ours = rows_where(StockLevel, "product_id", wanted, related=("product", "warehouse"))
        orms = list(
            StockLevel.objects.select_for_update(of=("self",))
            .select_related("product", "warehouse")
            .filter(product_id__in=wanted)
            .order_by("pk")
        )
        locked = rows_where(StockLevel, "product_id", wanted, related=("warehouse",), lock=True)
    assert [lv.pk for lv in ours] == [lv.pk for lv in orms] == [lv.pk for lv in locked]
    assert len(ours) == 4
    for mine, theirs in zip(ours, orms, strict=True):
        assert _concrete(mine, ()) == _concrete(theirs, ())
        assert not mine._state.adding and mine._state.db == "default"
        with CaptureQueriesContext(connection) as ctx:
            assert _concrete(mine.product, ()) == _concrete(theirs.product, ())
            assert _concrete(mine.warehouse, ()) == _concrete(theirs.warehouse, ())
        assert ctx.captured_queries == []
    assert rows_where(StockLevel, "product_id", [products[0].pk + 999]) == []


def test_rows_where_keeps_json_and_nullable_foreign_keys_as_the_orm_reads_them():
    from kernel.db import rows_where

    on = WebhookSubscription.objects.create(
        url="https://example.com/a", event_types=["order.created", "é"], secret="s" * 32
    )
    WebhookSubscription.objects.create(url="https://example.com/b", active=False, secret="t" * 32)
    [mine] = rows_where(WebhookSubscription, "active", [True])
    assert _concrete(mine, ()) == _concrete(WebhookSubscription.objects.get(pk=on.pk), ())
    assert mine.event_types == ["order.created", "é"]
    channel = Channel.objects.create(code="rw", name="Shop")
    _order("SO-RW-1", channel, None).save()
    [order] = rows_where(Order, "number", ["SO-RW-1"], related=("channel",))
    assert order.customer_id is None and order.channel.code == "rw"
    assert _concrete(order, ()) == _concrete(Order.objects.get(number="SO-RW-1"), ())
