"""Validation of a whole order file: its rows grouped into order drafts, every problem
reported by row and column, and the orders already placed recognised."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from kernel.csvio import (
    PROGRESS_EVERY,
    CsvTable,
    ErrorCollector,
    Progress,
    in_chunks,
    parse_decimal,
    parse_distinct,
    parse_whole,
)
from kernel.money import MoneyPlacesError, money_exact, quantize_money
from orders.imports.drafts import (
    HEADER_FIELDS,
    MAX_WARNINGS,
    READ_COLUMNS,
    READ_PLACES,
    ZERO,
    DraftLine,
    OrderDraft,
    _HeaderParser,
    _noop,
    products_by_sku,
)
from orders.models import Channel, Order
from orders.services import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    MAX_MONEY,
)


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
