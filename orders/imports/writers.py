"""Writers of the new orders of a file, with their lines and ``placed`` events, as
``orders.services.order_place`` would write them: COPY straight into the tables on
PostgreSQL (in a savepoint), ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` through
temporary tables if an order was placed meanwhile, ``bulk_create`` elsewhere."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kernel.actors import actor_name
from kernel.csvio import (
    CsvFileError,
    RowError,
    copy_rows,
    in_chunks,
)
from kernel.numbering import next_numbers
from orders.imports.drafts import ZERO, OrderDraft
from orders.models import Customer, Order, OrderEvent, OrderLine
from orders.services import (
    add_business_days,
)

_ORDER_TEMP = "_oms_order_import"
_CUSTOMER_TEMP = "_oms_customer_import"
_LINE_TEMP = "_oms_order_line_import"
_ORDER_TEMP_COLUMNS = (
    "number",
    "channel_id",
    "external_id",
    "customer_id",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "total",
    "placed_at",
    "ship_by",
    "tracking_token",
    "intake_hash",
    "event_message",
)


def _customers(new: list[OrderDraft]) -> dict[str, int]:
    """Find or create the customers of the new orders by e-mail (as customer_upsert
    does: stored lower-case, a missing name filled in). Returns e-mail -> id."""
    names: dict[str, str] = {}
    for draft in new:
        email = draft.header["customer_email"].strip().lower()
        if email and not names.get(email):
            names[email] = draft.header["customer_name"]
    if not names:
        return {}
    emails = list(names)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {_CUSTOMER_TEMP} (email text, name text) ON COMMIT DROP"
            )
            copy_rows(cursor, _CUSTOMER_TEMP, ("email", "name"), names.items())
            cursor.execute(
                f"UPDATE orders_customer c SET name = t.name FROM {_CUSTOMER_TEMP} t "
                "WHERE c.email = t.email AND c.name = '' AND t.name <> ''"
            )
            cursor.execute(
                "INSERT INTO orders_customer (email, name, phone, created_at) "
                f"SELECT t.email, t.name, '', now() FROM {_CUSTOMER_TEMP} t "
                "ORDER BY t.email ON CONFLICT (email) DO NOTHING"
            )
            cursor.execute(
                f"SELECT c.email, c.id FROM orders_customer c JOIN {_CUSTOMER_TEMP} t "
                "ON c.email = t.email"
            )
            ids = dict(cursor.fetchall())
            cursor.execute(f"DROP TABLE {_CUSTOMER_TEMP}")
            return ids
    ids: dict[str, int] = {}
    unnamed: list[int] = []
    for chunk in in_chunks(emails, 900):
        for email, pk, name in Customer.objects.filter(email__in=chunk).values_list(
            "email", "id", "name"
        ):
            ids[email] = pk
            if not name and names[email]:
                unnamed.append(pk)
    missing = [e for e in emails if e not in ids]
    if missing:
        Customer.objects.bulk_create(
            [Customer(email=e, name=names[e]) for e in missing],
            ignore_conflicts=True,
            batch_size=500,
        )
        for chunk in in_chunks(missing, 900):
            ids.update(Customer.objects.filter(email__in=chunk).values_list("email", "id"))
    if unnamed:
        by_id = {pk: email for email, pk in ids.items()}
        for pk in unnamed:
            Customer.objects.filter(pk=pk, name="").update(name=names[by_id[pk]])
    return ids


def _order_values(new: list[OrderDraft], numbers: list[str], customers: dict[str, int]):
    """The values of each new order, in ``_ORDER_TEMP_COLUMNS`` order."""
    now = timezone.now()
    for draft, number in zip(new, numbers, strict=True):
        header = draft.header
        placed_at: datetime = header["placed_at"] or now
        total = draft.total
        message = (
            f"Placed on {draft.channel.code}"
            + (f" as {draft.external_id}" if draft.external_id else "")
            + f": {len(draft.lines)} line(s), {total} {header['currency']}"
            + (f" after {draft.discount_total} discount" if draft.discount_total else "")
        )
        yield (
            number,
            draft.channel.pk,
            draft.external_id,
            customers.get(header["customer_email"].strip().lower()),
            header["ship_name"],
            header["ship_line1"],
            header["ship_line2"],
            header["ship_city"],
            header["ship_region"],
            header["ship_postcode"],
            header["ship_country"],
            header["currency"],
            draft.subtotal,
            draft.discount_total,
            header["shipping_total"],
            total,
            placed_at,
            add_business_days(placed_at, draft.channel.handling_days),
            secrets.token_urlsafe(24),
            draft.fingerprint(),
            message,
        )


def _line_values(new: list[OrderDraft], numbers: list[str]):
    seq = 0
    for draft, number in zip(new, numbers, strict=True):
        for ln in draft.lines:
            seq += 1
            yield (
                seq,
                number,
                ln.product.pk,
                ln.product.sku,
                ln.product.name,
                ln.quantity,
                ln.unit_price,
                ln.discount,
            )


def _place(new: list[OrderDraft], actor, dry_run: bool) -> list[tuple]:
    """Create the new orders with their lines and ``placed`` events, as ``order_place``
    would; returns [(draft, order id)] of the orders created."""
    if not new:
        return []
    numbers = (
        [f"DRY-{i:06d}" for i in range(1, len(new) + 1)]
        if dry_run and connection.vendor == "postgresql"  # sequences ignore rollbacks
        else next_numbers("order", len(new))
    )
    customers = _customers(new)
    by_number = dict(zip(numbers, new, strict=True))
    if connection.vendor == "postgresql":
        inserted = _insert_copy(new, numbers, customers, actor)
        if inserted is None:
            inserted = _insert_sql(new, numbers, customers, actor)
    else:
        inserted = _insert_orm(new, numbers, customers, actor)
    placed = [(by_number[number], pk) for pk, number in inserted]
    placed.sort(key=lambda item: item[1])
    return placed


def _insert_orm(new, numbers, customers, actor) -> list[tuple[int, str]]:
    """The ORM path (SQLite): bulk_create orders, then lines and events."""
    orders = []
    messages = []
    for values in _order_values(new, numbers, customers):
        fields = dict(zip(_ORDER_TEMP_COLUMNS, values, strict=True))
        messages.append(fields.pop("event_message"))
        orders.append(Order(**fields))
    try:
        with transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=500)
    except IntegrityError as exc:
        raise CsvFileError(
            [
                RowError(
                    0,
                    "external_id",
                    "",
                    "An order of this file was placed meanwhile by "
                    "another request; import the file again (it will be skipped)",
                )
            ]
        ) from exc
    ids = {order.number: order.pk for order in orders}
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order_id=ids[number],
                product_id=product_id,
                sku=sku,
                name=name,
                quantity=quantity,
                unit_price=unit_price,
                discount_total=discount,
            )
            for _, number, product_id, sku, name, quantity, unit_price, discount in _line_values(
                new, numbers
            )
        ],
        batch_size=500,
    )
    name = actor_name(actor)
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=order.pk,
                kind=OrderEvent.Kind.PLACED,
                message=message,
                actor=name,
                public=True,
                data={},
            )
            for order, message in zip(orders, messages, strict=True)
        ],
        batch_size=500,
    )
    return [(order.pk, order.number) for order in orders]


# Written by the COPY of new orders, after ``id`` and _ORDER_TEMP_COLUMNS; the other
# columns take their database defaults.
_ORDER_CONSTANT_COLUMNS = (
    "ship_phone",
    "tax_total",
    "refunded_total",
    "notes",
    "status",
    "hold_reason",
    "cancel_reason",
    "allocation_status",
    "fulfillment_status",
    "financial_status",
    "created_at",
    "updated_at",
)
_LINE_COLUMNS = (
    "order_id",
    "product_id",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "discount_total",
    "quantity_allocated",
    "quantity_shipped",
    "quantity_cancelled",
    "quantity_returned",
)
_EVENT_COLUMNS = ("order_id", "kind", "message", "data", "actor", "public", "created_at")


def _insert_copy(new, numbers, customers, actor) -> list[tuple[int, str]] | None:
    """PostgreSQL, the common case: the orders' ids are drawn from their sequence and
    the orders, lines and events are COPied straight into their tables, in a savepoint.
    None, with nothing written, if an order of the file was placed meanwhile by another
    request (a unique violation): then ``_insert_sql`` skips it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT now(), ARRAY(SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) "
            "FROM generate_series(1, %s))",
            [len(new)],
        )
        now, ids = cursor.fetchone()
        constants = ("", ZERO, ZERO, "", "pending", "", "", "unallocated", "unfulfilled")
        constants = (*constants, "pending", now, now)
        messages: list[str] = []

        def orders():
            for pk, values in zip(ids, _order_values(new, numbers, customers), strict=True):
                messages.append(values[-1])
                yield (pk, *values[:-1], *constants)

        by_number = dict(zip(numbers, ids, strict=True))
        zero = (0, 0, 0, 0)
        name = actor_name(actor)
        try:
            with transaction.atomic():
                copy_rows(
                    cursor,
                    "orders_order",
                    ("id", *_ORDER_TEMP_COLUMNS[:-1], *_ORDER_CONSTANT_COLUMNS),
                    orders(),
                )
                copy_rows(
                    cursor,
                    "orders_orderline",
                    _LINE_COLUMNS,
                    (
                        (by_number[number], *values, *zero)
                        for _, number, *values in _line_values(new, numbers)
                    ),
                )
                copy_rows(
                    cursor,
                    "orders_orderevent",
                    _EVENT_COLUMNS,
                    (
                        (pk, "placed", m, "{}", name, True, now)
                        for pk, m in zip(ids, messages, strict=True)
                    ),
                )
        except IntegrityError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "23505":  # not a unique violation
                raise
            return None
    return list(zip(ids, numbers, strict=True))


def _insert_sql(new, numbers, customers, actor) -> list[tuple[int, str]]:
    """PostgreSQL: COPY into temporary tables, then one INSERT ... SELECT statement for
    orders (ON CONFLICT DO NOTHING), events and lines."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # sorts and joins in memory
        cursor.execute(
            f"""CREATE TEMP TABLE {_ORDER_TEMP} (
                number varchar(20), channel_id bigint, external_id varchar(128),
                customer_id bigint, ship_name varchar(255), ship_line1 varchar(255),
                ship_line2 varchar(255), ship_city varchar(128), ship_region varchar(64),
                ship_postcode varchar(32), ship_country varchar(2), currency varchar(3),
                subtotal numeric(13, 3), discount_total numeric(13, 3),
                shipping_total numeric(13, 3), total numeric(13, 3),
                placed_at timestamptz, ship_by timestamptz, tracking_token varchar(64),
                intake_hash varchar(64), event_message text
            ) ON COMMIT DROP"""
        )
        cursor.execute(
            f"""CREATE TEMP TABLE {_LINE_TEMP} (
                seq integer, number varchar(20), product_id bigint, sku varchar(64),
                name varchar(255), quantity integer, unit_price numeric(13, 3),
                discount_total numeric(13, 3)
            ) ON COMMIT DROP"""
        )
        copy_rows(cursor, _ORDER_TEMP, _ORDER_TEMP_COLUMNS, _order_values(new, numbers, customers))
        copy_rows(
            cursor,
            _LINE_TEMP,
            (
                "seq",
                "number",
                "product_id",
                "sku",
                "name",
                "quantity",
                "unit_price",
                "discount_total",
            ),
            _line_values(new, numbers),
        )
        copied = ", ".join(c for c in _ORDER_TEMP_COLUMNS if c != "event_message")
        cursor.execute(
            f"""
            WITH ins AS (
                INSERT INTO orders_order ({copied}, ship_phone, tax_total, refunded_total,
                    notes, status, hold_reason, cancel_reason, allocation_status,
                    fulfillment_status, financial_status, created_at, updated_at)
                SELECT {copied}, '', 0, 0, '', 'pending', '', '', 'unallocated',
                       'unfulfilled', 'pending', now(), now()
                FROM {_ORDER_TEMP}
                ORDER BY number
                ON CONFLICT (channel_id, external_id) DO NOTHING
                RETURNING id, number
            ), ev AS (
                INSERT INTO orders_orderevent
                    (order_id, kind, message, data, actor, public, created_at)
                SELECT ins.id, 'placed', t.event_message, '{{}}'::jsonb, %(actor)s, true, now()
                FROM ins JOIN {_ORDER_TEMP} t ON t.number = ins.number
                ORDER BY ins.id
            ), ln AS (
                INSERT INTO orders_orderline (order_id, product_id, sku, name, quantity,
                    unit_price, discount_total, quantity_allocated, quantity_shipped,
                    quantity_cancelled, quantity_returned)
                SELECT ins.id, l.product_id, l.sku, l.name, l.quantity, l.unit_price,
                    l.discount_total, 0, 0, 0, 0
                FROM {_LINE_TEMP} l JOIN ins ON ins.number = l.number
                ORDER BY l.seq
            )
            SELECT id, number FROM ins
            """,
            {"actor": actor_name(actor)},
        )
        inserted = cursor.fetchall()
        cursor.execute(f"DROP TABLE {_ORDER_TEMP}, {_LINE_TEMP}")
    return inserted
