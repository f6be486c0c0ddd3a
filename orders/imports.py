"""CSV import of orders: one row per line; rows sharing (channel, external_id) are one order.

The same placement rules as the API (``orders.services.order_place``): numbers from
``oms.numbering``, a ``placed`` event, the customer found or created by e-mail, the
intake fingerprint (so a later API replay of the same order is recognised as a replay),
idempotency by (channel, external_id): an order already placed is left as it is and
counted as skipped. The whole file is validated first (SKUs, channels and existing
orders in a handful of queries); a bad row rejects the file with a report.

PostgreSQL: customers are created in bulk (COPY into a temporary table, then
set-based SQL); the orders' ids are drawn from their sequence and orders, lines and
events are COPied straight into their tables in a savepoint. If an order of the file
was placed meanwhile by the API (a unique violation on (channel, external_id)), that
savepoint is rolled back and they are written instead through temporary tables and
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, so that order is skipped, not
duplicated. Other databases (SQLite) take an ORM path with ``bulk_create`` that writes
the same rows.

Every new order then gets what every entry point gives it: ``order.created``, and the
one acceptance policy, ``fulfillment.services.intake.order_accept``, in the same
transaction (on an ``auto_confirm`` channel the auto-confirm rules decide between a
hold naming the failed rules and confirm + route). The orders app must not import
fulfillment (dependencies point inventory <- orders <- fulfillment), so that function
is looked up by its dotted path, as inventory names
``fulfillment.tasks.allocate_backorders``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property, partial
from operator import itemgetter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from inventory.models import Product
from oms import webhooks
from oms.actors import actor_name
from oms.csvio import (
    PROGRESS_EVERY,
    CsvFileError,
    CsvTable,
    ErrorCollector,
    ImportResult,
    Progress,
    Rollback,
    RowError,
    Timer,
    copy_rows,
    gc_paused,
    in_chunks,
    parse_decimal,
    parse_distinct,
    parse_when,
    parse_whole,
    read_csv,
)
from oms.exceptions import DomainError
from oms.money import MoneyPlacesError, money_exact, quantize_money
from oms.numbering import next_numbers
from orders.models import Channel, Customer, Order, OrderEvent, OrderLine
from orders.services import (
    ADDRESS_FIELDS,
    COUNTRY_RE,
    CURRENCY_RE,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    MAX_MONEY,
    add_business_days,
    intake_fingerprint,
)

ORDER_ACCEPT = "fulfillment.services.intake.order_accept"

ORDER_COLUMNS = (
    "channel",
    "external_id",
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "sku",
    "quantity",
    "unit_price",
    "shipping_total",
)
# Optional: the discount on the row's line (the whole line; blank: none). Exports fill
# it, so an exported order imports again as it was charged.
OPTIONAL_COLUMNS = ("discount_total",)
EXPORT_EXTRA_COLUMNS = (
    "number",
    "status",
    "allocation_status",
    "fulfillment_status",
    "financial_status",
    *OPTIONAL_COLUMNS,
)
# ``number`` is read too: an exported order placed without an external id is
# recognised by its number when the export is imported again.
READ_COLUMNS = (*ORDER_COLUMNS, *OPTIONAL_COLUMNS, "number")
ORDER_REQUIRED = ("channel", "external_id", "currency", "sku", "quantity")
ORDER_DECIMALS = ("unit_price", "shipping_total", "discount_total")
# Money cells are read with this many decimals, then held to their currency's own
# (``oms.money``): a cell with more decimals than its currency has is a row error.
READ_PLACES = 6
HEADER_FIELDS = (
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "shipping_total",
)
_SHIP_LENGTHS = {
    "ship_name": 255,
    "ship_line1": 255,
    "ship_line2": 255,
    "ship_city": 128,
    "ship_region": 64,
    "ship_postcode": 32,
    "ship_country": 2,
}
MAX_WARNINGS = 50
ZERO = quantize_money(0)


def _noop(done: int, total: int, phase: str = "") -> None:
    return None


class ProductRef(NamedTuple):
    pk: int
    sku: str
    name: str
    price: Decimal
    active: bool


class DraftLine(NamedTuple):
    row: int
    product: ProductRef
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")


def products_by_sku(skus: list[str]) -> dict[str, ProductRef]:
    """The given SKUs that exist (one query on PostgreSQL)."""
    columns = ("id", "sku", "name", "price", "active")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM inventory_product WHERE sku = ANY(%s)",
                [skus],
            )
            rows = cursor.fetchall()
    else:
        rows = []
        for chunk in in_chunks(skus, 900):
            rows.extend(Product.objects.filter(sku__in=chunk).values_list(*columns))
    return {row[1]: ProductRef(*row) for row in rows}


@dataclass
class OrderDraft:
    """One order of the file, validated."""

    first_row: int
    channel: Channel
    external_id: str | None
    header: dict
    cells: tuple = ()
    number: str = ""  # when recognised by number (no external id)
    lines: list[DraftLine] = field(default_factory=list)
    existing: tuple | None = None  # (id, number, intake_hash) when already placed

    @property
    def label(self) -> str:
        return f"{self.channel.code}/{self.external_id or self.number}"

    @property
    def address(self) -> dict:
        address = {k: self.header.get(f"ship_{k}", "") for k in ADDRESS_FIELDS}
        address["phone"] = ""
        return address

    @cached_property
    def subtotal(self) -> Decimal:
        return quantize_money(
            sum((ln.unit_price * ln.quantity for ln in self.lines), ZERO),
            self.header["currency"],
        )

    @cached_property
    def discount_total(self) -> Decimal:
        return sum((ln.discount for ln in self.lines), ZERO)

    @cached_property
    def total(self) -> Decimal:
        return quantize_money(
            self.subtotal - self.discount_total + self.header["shipping_total"],
            self.header["currency"],
        )

    def fingerprint(self) -> str:
        return intake_fingerprint(
            currency=self.header["currency"],
            customer={"email": self.header["customer_email"]},
            address=self.address,
            lines=[(ln.product.sku, ln.quantity, ln.unit_price, ln.discount) for ln in self.lines],
            shipping_total=self.header["shipping_total"],
            tax_total=ZERO,
            discount_total=self.discount_total,
        )


class _HeaderParser:
    """Parses an order's header cells once per distinct combination."""

    def __init__(self, idx: dict[str, int | None]):
        # the header columns present in the file, and a fast getter of their cells
        self.names = [name for name, i in idx.items() if i is not None]
        positions = [idx[name] for name in self.names]
        if len(positions) > 1:
            self.cells = itemgetter(*positions)
        else:
            self.cells = (lambda row: (row[positions[0]],)) if positions else (lambda row: ())
        self.blank = dict.fromkeys(idx, "")
        self.cache: dict[tuple, tuple[dict, list[tuple[str, str, str]]]] = {}
        self.emails: dict[str, bool] = {}

    def parse(self, cells: tuple) -> tuple[dict, list[tuple[str, str, str]]]:
        cached = self.cache.get(cells)
        if cached is not None:
            return cached
        raw = {**self.blank, **dict(zip(self.names, cells, strict=True))}
        header: dict = {}
        problems: list[tuple[str, str, str]] = []
        value = raw["placed_at"]
        header["placed_at"] = None
        if value:
            try:
                header["placed_at"] = parse_when(value)
            except ValueError as exc:
                problems.append(("placed_at", value, f"placed_at {exc}"))
        email = raw["customer_email"]
        if email:
            valid = self.emails.get(email)
            if valid is None:
                try:
                    validate_email(email)
                    valid = len(email) <= 254
                except ValidationError:
                    valid = False
                self.emails[email] = valid
            if not valid:
                problems.append(("customer_email", email, f"{email!r} is not a valid e-mail"))
        header["customer_email"] = email
        name = raw["customer_name"]
        if len(name) > 255:
            problems.append(("customer_name", name[:50], "is too long (at most 255 characters)"))
        header["customer_name"] = name
        for column, maximum in _SHIP_LENGTHS.items():
            value = raw[column]
            if column == "ship_country":
                value = value.upper()
                if value and not COUNTRY_RE.match(value):
                    problems.append(
                        (column, raw[column], "ship_country must be a 2-letter ISO 3166-1 code")
                    )
            elif len(value) > maximum:
                problems.append(
                    (column, value[:50], f"{column} is too long (at most {maximum} characters)")
                )
            header[column] = value
        currency = raw["currency"].upper()
        if not CURRENCY_RE.match(currency):
            problems.append(
                ("currency", raw["currency"], "currency must be a 3-letter ISO 4217 code")
            )
        header["currency"] = currency
        value = raw["shipping_total"]
        header["shipping_total"] = ZERO
        if value:
            try:
                header["shipping_total"] = parse_decimal(
                    value, places=READ_PLACES, maximum=MAX_MONEY
                )
            except ValueError as exc:
                problems.append(("shipping_total", value, f"shipping_total {exc}"))
        self.cache[cells] = (header, problems)
        return header, problems


def _parsed(parse, cell: str, **kwargs):
    """parse(cell) or, for a bad cell, the error message (a str)."""
    try:
        return parse(cell, **kwargs)
    except ValueError as exc:
        return str(exc)


def _drafts_if_all_good(table, idx, headers, channels, products) -> dict | None:
    """The fast path of validate_orders: whole columns checked at once, then one plain
    pass that groups the rows into orders. Returns the drafts by (channel, external_id)
    when every row is good, None when some row is not (or names an order by number):
    then the row-by-row pass reports the problems."""
    rows = table.rows
    codes = [row[idx["channel"]] for row in rows]
    for code in set(codes):
        channel = channels.get(code)
        if channel is None or not channel.active:
            return None
    external_ids = [row[idx["external_id"]] for row in rows]
    if not all(external_ids) or max(map(len, external_ids)) > 128:
        return None
    skus = [row[idx["sku"]] for row in rows]
    for sku in set(skus):
        product = products.get(sku)
        if product is None or not product.active:
            return None
    quantity_cells = [row[idx["quantity"]] for row in rows]
    quantities = parse_distinct(
        quantity_cells, parse_whole, maximum=MAX_LINE_QUANTITY, positive=True
    )
    if quantities is None:
        return None
    i_price = idx["unit_price"]
    price_cells = [row[i_price] for row in rows] if i_price is not None else [""] * len(rows)
    prices = parse_distinct(
        filter(None, price_cells), parse_decimal, places=READ_PLACES, maximum=MAX_MONEY
    )
    if prices is None:
        return None
    i_discount = idx["discount_total"]
    discount_cells = (
        [row[i_discount] for row in rows] if i_discount is not None else [""] * len(rows)
    )
    discounts = parse_distinct(
        filter(None, discount_cells), parse_decimal, places=READ_PLACES, maximum=MAX_MONEY
    )
    if discounts is None:
        return None
    header_cells = list(map(headers.cells, rows))
    parsed: dict[tuple, dict] = {}
    for cells in set(header_cells):
        header, problems = headers.parse(cells)
        if problems:
            return None
        parsed[cells] = header
    drafts: dict[tuple[str, str], OrderDraft] = {}
    seen_lines: set[tuple] = set()
    names = headers.names
    columns = (table.row_numbers, codes, external_ids, skus, quantity_cells, price_cells)
    for number, code, external_id, sku, quantity_cell, price_cell, discount_cell, cells in zip(
        *columns, discount_cells, header_cells, strict=True
    ):
        key = (code, external_id)
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = OrderDraft(
                first_row=number,
                channel=channels[code],
                external_id=external_id,
                header=parsed[cells],
                cells=cells,
            )
        elif cells != draft.cells:
            header = parsed[cells]
            if any(header[name] != draft.header[name] for name in names):
                return None
        product = products[sku]
        quantity = quantities[quantity_cell]
        unit_price = (
            prices[price_cell]
            if price_cell
            else quantize_money(product.price, draft.header["currency"])
        )
        line_key = (key, sku, quantity, unit_price)
        if line_key in seen_lines:
            return None
        seen_lines.add(line_key)
        discount = discounts[discount_cell] if discount_cell else ZERO
        draft.lines.append(DraftLine(number, product, quantity, unit_price, discount))
    return drafts


def _check_money(drafts, errors: ErrorCollector) -> None:
    """Every amount in its order's currency's minor units, and no line discounted
    below nothing: a row error each (a KWD price may have three decimals, a JPY one
    none)."""

    def exact(row, column, value, currency):
        try:
            return money_exact(value, currency)
        except MoneyPlacesError as exc:
            errors.add(row, column, str(value), f"{column}: {exc}")
            return None

    for draft in drafts:
        currency = draft.header["currency"] or None
        header = draft.header
        shipping = exact(draft.first_row, "shipping_total", header["shipping_total"], currency)
        if shipping is not None:
            # in the currency's minor units from here on (the fingerprint is the API's)
            draft.header = {**draft.header, "shipping_total": shipping}
        for i, ln in enumerate(draft.lines):
            price = exact(ln.row, "unit_price", ln.unit_price, currency)
            discount = exact(ln.row, "discount_total", ln.discount, currency)
            if price is None or discount is None:
                continue
            ln = draft.lines[i] = ln._replace(unit_price=price, discount=discount)
            if ln.discount:
                value = ln.unit_price * ln.quantity
                if ln.discount > value:
                    errors.add(
                        ln.row,
                        "discount_total",
                        str(ln.discount),
                        f"discount_total {ln.discount} is more than the line's value "
                        f"({quantize_money(value, currency)})",
                    )


def validate_orders(
    table: CsvTable, progress: Progress | None = None
) -> tuple[list[OrderDraft], list[str]]:
    """Check every row and group the rows into orders; orders already placed are marked
    (``existing``). Returns (drafts in file order, warnings); CsvFileError if any row
    is bad."""
    progress = progress or _noop
    errors = ErrorCollector()
    idx = {c: table.index(c) for c in READ_COLUMNS}
    header_idx = {c: idx[c] for c in HEADER_FIELDS}
    headers = _HeaderParser(header_idx)
    i_channel, i_ext, i_number = idx["channel"], idx["external_id"], idx["number"]
    i_sku, i_qty, i_price = idx["sku"], idx["quantity"], idx["unit_price"]
    i_discount = idx["discount_total"]

    channels = {c.code: c for c in Channel.objects.all()}
    products = products_by_sku(list({row[i_sku] for row in table.rows}))
    quantities: dict[str, int | str] = {}  # cell -> number, or the error message
    prices: dict[str, Decimal | str] = {}

    total = len(table)
    progress(0, total, "validating")
    drafts = _drafts_if_all_good(table, idx, headers, channels, products)
    if drafts is None:
        # Some row is bad: the row-by-row pass below finds and words every problem.
        drafts: dict[tuple[str, str], OrderDraft] = {}
        seen_lines: dict[tuple, int] = {}
        for i, (row, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
            if i % PROGRESS_EVERY == 0:
                progress(i, total, "validating")
            code = row[i_channel]
            channel = channels.get(code)
            if channel is None:
                errors.add(
                    number,
                    "channel",
                    code,
                    f"Unknown channel {code!r}" if code else "channel is required",
                )
            elif not channel.active:
                errors.add(number, "channel", code, f"Channel {code} is inactive")
                channel = None
            external_id = row[i_ext]
            order_number = row[i_number] if i_number is not None else ""
            if external_id:
                if len(external_id) > 128:
                    errors.add(number, "external_id", external_id[:50], "is too long (at most 128)")
                key = (code, external_id)
            elif order_number:
                key = ("#", order_number)
            else:
                errors.add(number, "external_id", "", "external_id is required")
                key = None
            sku = row[i_sku]
            product = products.get(sku)
            if product is None:
                errors.add(number, "sku", sku, f"Unknown SKU {sku!r}" if sku else "sku is required")
            elif not product.active:
                errors.add(number, "sku", sku, f"SKU {sku} is inactive")
                product = None
            qty_cell = row[i_qty]
            quantity = quantities.get(qty_cell)
            if quantity is None:
                quantity = quantities[qty_cell] = _parsed(
                    parse_whole, qty_cell, maximum=MAX_LINE_QUANTITY, positive=True
                )
            if type(quantity) is str:
                errors.add(number, "quantity", qty_cell, f"quantity {quantity}")
                quantity = None
            price_cell = row[i_price] if i_price is not None else ""
            unit_price = None
            if price_cell:
                unit_price = prices.get(price_cell)
                if unit_price is None:
                    unit_price = prices[price_cell] = _parsed(
                        parse_decimal, price_cell, places=READ_PLACES, maximum=MAX_MONEY
                    )
                if type(unit_price) is str:
                    errors.add(number, "unit_price", price_cell, f"unit_price {unit_price}")
                    unit_price = None
            cells = headers.cells(row)
            header, problems = headers.parse(cells)
            if not price_cell and product is not None:
                unit_price = quantize_money(product.price, header["currency"] or None)
            discount_cell = row[i_discount] if i_discount is not None else ""
            discount = ZERO
            if discount_cell:
                discount = _parsed(
                    parse_decimal, discount_cell, places=READ_PLACES, maximum=MAX_MONEY
                )
                if type(discount) is str:
                    errors.add(
                        number, "discount_total", discount_cell, f"discount_total {discount}"
                    )
                    discount = ZERO
            for column, value, message in problems:
                errors.add(number, column, value, message)
            if key is None or channel is None:
                continue
            draft = drafts.get(key)
            if draft is None:
                draft = drafts[key] = OrderDraft(
                    first_row=number,
                    channel=channel,
                    external_id=external_id or None,
                    number="" if external_id else order_number,
                    header=header,
                    cells=cells,
                )
            elif cells != draft.cells and not problems:
                for pos, name in enumerate(headers.names):
                    if header[name] != draft.header[name]:
                        errors.add(
                            number,
                            name,
                            cells[pos],
                            f"order {draft.label} has {name} {draft.cells[pos]!r} on row "
                            f"{draft.first_row} but {cells[pos]!r} here; every row of an order "
                            "must repeat the same customer, address, currency, placed_at and "
                            "shipping_total",
                        )
            if product is None or quantity is None or unit_price is None:
                continue
            line_key = (key, sku, quantity, unit_price)
            if line_key in seen_lines:
                errors.add(
                    number,
                    "sku",
                    sku,
                    f"duplicate row: the same line of order {draft.label} is on row "
                    f"{seen_lines[line_key]}",
                )
                continue
            seen_lines[line_key] = number
            draft.lines.append(DraftLine(number, product, quantity, unit_price, discount))
    progress(total, total, "validating")

    _check_money(drafts.values(), errors)
    for draft in drafts.values():
        if len(draft.lines) > MAX_LINES:
            errors.add(
                draft.first_row,
                "external_id",
                draft.external_id or draft.number,
                f"order {draft.label} has {len(draft.lines)} lines; at most {MAX_LINES}",
            )
        elif draft.lines and draft.total > MAX_MONEY:
            errors.add(
                draft.first_row, "unit_price", "", f"order {draft.label}: the total is too large"
            )

    warnings = _mark_existing(list(drafts.values()), errors)
    errors.raise_if_any(rows=total)
    return list(drafts.values()), warnings


def _existing_orders(channel_id: int | None, external_ids=(), numbers=()) -> list[tuple]:
    """(external_id or number, id, number, intake_hash) of orders already placed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if numbers:
                cursor.execute(
                    "SELECT number, id, number, intake_hash FROM orders_order "
                    "WHERE number = ANY(%s)",
                    [list(numbers)],
                )
            else:
                cursor.execute(
                    "SELECT external_id, id, number, intake_hash FROM orders_order "
                    "WHERE channel_id = %s AND external_id = ANY(%s)",
                    [channel_id, list(external_ids)],
                )
            return cursor.fetchall()
    found: list[tuple] = []
    keys, field = (numbers, "number") if numbers else (external_ids, "external_id")
    for chunk in in_chunks(list(keys), 900):
        query = Order.objects.filter(**{f"{field}__in": chunk})
        if not numbers:
            query = query.filter(channel_id=channel_id)
        found.extend(query.values_list(field, "id", "number", "intake_hash"))
    return found


def _mark_existing(drafts: list[OrderDraft], errors: ErrorCollector):
    by_channel: dict[int, dict[str, OrderDraft]] = {}
    by_number: dict[str, OrderDraft] = {}
    for draft in drafts:
        if draft.external_id is not None:
            by_channel.setdefault(draft.channel.pk, {})[draft.external_id] = draft
        else:
            by_number[draft.number] = draft
    for channel_id, wanted in by_channel.items():
        for key, pk, number, intake_hash in _existing_orders(channel_id, external_ids=wanted):
            wanted[key].existing = (pk, number, intake_hash)
    if by_number:
        for key, pk, number, intake_hash in _existing_orders(None, numbers=by_number):
            by_number[key].existing = (pk, number, intake_hash)
    for number, draft in by_number.items():
        if draft.existing is None:
            errors.add(
                draft.first_row,
                "external_id",
                "",
                f"external_id is required (order {number} is not in the system)",
            )
    warnings: list[str] = []
    differing = 0
    for draft in drafts:
        if draft.existing is None or not draft.lines or draft.external_id is None:
            continue
        _, number, intake_hash = draft.existing
        if intake_hash and intake_hash != draft.fingerprint():
            differing += 1
            if len(warnings) < MAX_WARNINGS:
                warnings.append(
                    f"Row {draft.first_row}: order {draft.label} was already placed as "
                    f"{number} with different content; left as it is"
                )
    if differing > MAX_WARNINGS:
        warnings.append(f"... and {differing - MAX_WARNINGS} more already placed differently")
    return warnings


def import_orders(
    data,
    *,
    dry_run: bool = False,
    actor=None,
    progress: Progress | None = None,
    details: dict | None = None,
) -> ImportResult:
    """Place the orders of a CSV file (bytes/text or a CsvTable) in one transaction.

    Orders already placed (same channel and external id) are skipped. Raises
    CsvFileError, writing nothing, if any row is bad. Orders on auto-confirming
    channels are confirmed and routed before the transaction commits. ``details``, if
    given, receives ``placed`` [(draft, order id)] and ``skipped`` [drafts]."""
    with gc_paused():
        return _import_orders(
            data, dry_run=dry_run, actor=actor, progress=progress, details=details
        )


def _import_orders(data, *, dry_run: bool, actor, progress, details) -> ImportResult:
    timer = Timer()
    progress = progress or _noop
    table = (
        data
        if isinstance(data, CsvTable)
        else read_csv(data, columns=READ_COLUMNS, required=ORDER_REQUIRED, decimals=ORDER_DECIMALS)
    )
    timer.mark("read")
    drafts, warnings = validate_orders(table, progress)
    timer.mark("validate")
    new = [d for d in drafts if d.existing is None]
    result = ImportResult(kind="orders", rows=len(table), dry_run=dry_run, warnings=warnings)
    result.skipped = len(drafts) - len(new)
    result.extra["lines_skipped"] = sum(len(d.lines) for d in drafts if d.existing)
    try:
        with transaction.atomic():
            progress(len(table), len(table), "writing")
            placed = _place(new, actor, dry_run)
            result.new = len(placed)
            result.extra["lines_new"] = sum(len(d.lines) for d, _ in placed)
            result.skipped += len(new) - len(placed)
            _accept(placed, result, actor, progress, len(table))
            if details is not None:
                details["placed"] = placed
                details["skipped"] = [d for d in drafts if d.existing is not None]
            timer.mark("write")
            if dry_run:
                raise Rollback
    except Rollback:
        pass
    timer.mark("commit" if not dry_run else "rollback")
    result.extra["phases"] = timer.phases
    result.seconds = timer.seconds
    return result


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


def _accept(placed: list[tuple], result, actor, progress, total) -> None:
    """What every entry point does after placing: ``order.created`` for each new order,
    then the acceptance policy (``fulfillment.services.intake.order_accept``: on an
    auto-confirming channel the auto-confirm rules decide between a hold naming the
    failed rules and confirm + route), in the import's transaction."""
    result.extra["confirmed"] = result.extra["held"] = 0
    if not placed:
        return
    accept = import_string(ORDER_ACCEPT)
    progress(total, total, "confirming")
    with webhooks.subscriptions_read_once():
        for _, pk in placed:  # the payload (and so the order) is read only for a subscriber
            webhooks.publish("order.created", partial(_order_data, pk))
        auto = [pk for draft, pk in placed if draft.channel.auto_confirm]
        for chunk in in_chunks(auto, 500):
            orders = Order.objects.filter(pk__in=chunk).select_related("channel", "customer")
            for order in orders.order_by("pk"):
                try:
                    accept(order=order, actor=actor)
                except DomainError as exc:
                    raise CsvFileError(
                        [RowError(0, "", order.number, f"{order.number}: {exc.message}")]
                    ) from exc
                if order.status == Order.Status.CONFIRMED:
                    result.extra["confirmed"] += 1
                elif order.status == Order.Status.ON_HOLD:
                    result.extra["held"] += 1


def _order_data(pk: int) -> dict:
    return webhooks.order_data(Order.objects.select_related("channel", "customer").get(pk=pk))
