"""Stock rows: validation of the whole file, then the counts set through
``inventory.services.stock_set_counts`` in one transaction."""

from __future__ import annotations

from functools import partial

from django.db import connection, transaction

from inventory.counting import (
    MAX_QUANTITY,
    CountedStock,
    CountsBelowReserved,
    below_reserved_message,
)
from inventory.imports.common import (
    IMPORT_NOTE,
    MAX_INT,
    STOCK_COLUMNS,
    STOCK_REQUIRED,
    _as_table,
    _batch,
    _noop,
)
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import stock_set_count, stock_set_counts
from kernel.csvio import (
    PROGRESS_EVERY,
    CsvFileError,
    CsvTable,
    ErrorCollector,
    ImportResult,
    Progress,
    Rollback,
    RowError,
    Timer,
    gc_paused,
    in_chunks,
    parse_distinct,
    parse_whole,
)

StockRow = CountedStock  # a validated row of a stock file


def product_ids_by_sku(skus: list[str]) -> dict[str, int]:
    """sku -> id of the given SKUs that exist (one query on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sku, id FROM inventory_product WHERE sku = ANY(%s)", [skus])
            return dict(cursor.fetchall())
    found: dict[str, int] = {}
    for chunk in in_chunks(skus, 900):
        found.update(Product.objects.filter(sku__in=chunk).values_list("sku", "id"))
    return found


def validate_stock(table: CsvTable, progress: Progress | None = None) -> list[StockRow]:
    """Every row checked (SKUs and warehouses looked up in two queries); CsvFileError if
    any is bad. Counting below what is reserved is checked when writing, under lock."""
    progress = progress or _noop
    errors = ErrorCollector()
    i_sku, i_wh, i_qty = table.index("sku"), table.index("warehouse"), table.index("on_hand")
    i_bin, i_rp = table.index("bin"), table.index("reorder_point")
    skus = [cells[i_sku] for cells in table.rows]
    products = product_ids_by_sku(list(set(skus)))
    warehouses = dict(Warehouse.objects.values_list("code", "id"))
    total = len(table)
    progress(0, total, "validating")
    parsed = _stock_rows_if_all_good(table, skus, products, warehouses)
    if parsed is not None:
        progress(total, total, "validating")
        return parsed
    # Some row is bad: the row-by-row pass below finds and words every problem.
    quantities: dict[str, int | str] = {}  # cell -> number, or the error message

    def quantity(cell: str, maximum: int) -> int | str:
        try:
            return parse_whole(cell, maximum=maximum)
        except ValueError as exc:
            return str(exc)

    seen: dict[tuple[int, int], int] = {}
    parsed = []
    for i, (cells, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if i % PROGRESS_EVERY == 0:
            progress(i, total, "validating")
        ok = True
        sku, code, qty = cells[i_sku], cells[i_wh], cells[i_qty]
        product_id = products.get(sku)
        if product_id is None:
            ok = False
            errors.add(number, "sku", sku, f"Unknown SKU {sku!r}" if sku else "sku is required")
        warehouse_id = warehouses.get(code)
        if warehouse_id is None:
            ok = False
            errors.add(
                number,
                "warehouse",
                code,
                f"Unknown warehouse {code!r}" if code else "warehouse is required",
            )
        on_hand = quantities.get(qty)
        if on_hand is None:
            on_hand = quantities[qty] = quantity(qty, MAX_QUANTITY)
        if type(on_hand) is str:
            ok = False
            errors.add(number, "on_hand", qty, f"on_hand {on_hand}")
        bin_ = cells[i_bin] if i_bin is not None else ""
        if len(bin_) > 32:
            ok = False
            errors.add(number, "bin", bin_, "bin is too long (at most 32 characters)")
        reorder_point = None
        if i_rp is not None and cells[i_rp]:
            cell = cells[i_rp]
            reorder_point = quantities.get("rp:" + cell)
            if reorder_point is None:
                reorder_point = quantities["rp:" + cell] = quantity(cell, MAX_INT)
            if type(reorder_point) is str:
                ok = False
                errors.add(number, "reorder_point", cell, f"reorder_point {reorder_point}")
        if not ok:
            continue
        key = (product_id, warehouse_id)
        first = seen.setdefault(key, number)
        if first != number:
            errors.add(
                number,
                "sku",
                sku,
                f"duplicate row: {sku} at {code} is already on row {first}",
            )
            continue
        parsed.append(
            StockRow(
                number, sku, code, product_id, warehouse_id, on_hand, bin_ or None, reorder_point
            )
        )
    progress(total, total, "validating")
    errors.raise_if_any(rows=total)
    return parsed


def _stock_rows_if_all_good(table: CsvTable, skus, products, warehouses) -> list[StockRow] | None:
    """The fast path of validate_stock: a few passes over whole columns (no per-row
    branching) that give the rows when every row is good, or None when some row is bad
    (then the row-by-row pass reports the problems)."""
    rows, total = table.rows, len(table)
    product_ids = list(map(products.get, skus))
    if None in product_ids:
        return None
    i_wh, i_qty = table.index("warehouse"), table.index("on_hand")
    i_bin, i_rp = table.index("bin"), table.index("reorder_point")
    codes = [cells[i_wh] for cells in rows]
    warehouse_ids = list(map(warehouses.get, codes))
    if None in warehouse_ids:
        return None
    if len(set(zip(product_ids, warehouse_ids, strict=True))) != total:
        return None  # a duplicate row
    cells = [cells[i_qty] for cells in rows]
    numbers = parse_distinct(cells, parse_whole, maximum=MAX_QUANTITY)
    if numbers is None:
        return None
    on_hands = list(map(numbers.__getitem__, cells))
    if i_bin is None:
        bins = [None] * total
    else:
        bins = [cells[i_bin] or None for cells in rows]
        if max(map(len, filter(None, bins)), default=0) > 32:
            return None
    if i_rp is None:
        points = [None] * total
    else:
        cells = [cells[i_rp] for cells in rows]
        numbers = parse_distinct(filter(None, cells), parse_whole, maximum=MAX_INT)
        if numbers is None:
            return None
        numbers[""] = None
        points = list(map(numbers.__getitem__, cells))
    columns = (table.row_numbers, skus, codes, product_ids, warehouse_ids, on_hands, bins, points)
    return list(map(_new_stock_row, zip(*columns, strict=True)))


_new_stock_row = partial(tuple.__new__, StockRow)  # StockRow from a tuple, without a call


def _below_reserved(row: StockRow, reserved: int) -> RowError:
    return RowError(row.row, "on_hand", str(row.on_hand), below_reserved_message(row, reserved))


def import_stock(
    data, *, dry_run: bool = False, actor=None, progress: Progress | None = None
) -> ImportResult:
    """Set counted quantities (and bins and reorder points when given) from a CSV file.

    Each difference is one ``import`` movement with the batch number as reference. A
    row counting fewer than are reserved rejects the file. Raises CsvFileError, writing
    nothing, if any row is bad. Locks the file's stock levels, in id order
    (``inventory.services.stock_set_counts``)."""
    with gc_paused():
        return _import_stock(data, dry_run=dry_run, actor=actor, progress=progress)


def _import_stock(data, *, dry_run: bool, actor, progress: Progress | None) -> ImportResult:
    timer = Timer()
    progress = progress or _noop
    table = _as_table(data, STOCK_COLUMNS, STOCK_REQUIRED)
    timer.mark("read")
    rows = validate_stock(table, progress)
    timer.mark("validate")
    result = ImportResult(kind="stock", rows=len(rows), dry_run=dry_run)
    try:
        with transaction.atomic():
            result.batch = _batch(dry_run)
            try:
                counted = stock_set_counts(
                    counts=rows,
                    kind=StockMovement.Kind.IMPORT,
                    reference=result.batch,
                    note=IMPORT_NOTE,
                    actor=actor,
                    bulk=True,
                    field="on_hand",
                )
            except CountsBelowReserved as exc:  # the transaction is rolled back
                errors = [_below_reserved(row, reserved) for row, reserved in exc.rows]
                raise CsvFileError(errors, rows=len(rows)) from exc
            result.new, result.updated = counted.created, counted.updated
            result.unchanged = counted.unchanged
            progress(len(rows), len(rows), "writing")
            timer.mark("write")
            if dry_run:
                raise Rollback
    except Rollback:
        pass
    timer.mark("commit" if not dry_run else "rollback")
    result.extra["phases"] = timer.phases
    result.seconds = timer.seconds
    return result


def stock_import_row(
    *,
    product: Product,
    warehouse: Warehouse,
    counted: int,
    bin: str | None = None,
    reorder_point: int | None = None,
    reference: str = "",
    actor=None,
) -> tuple[StockLevel, bool]:
    """One row of the admin's stock import: ``stock_set_count`` with the ledger kind
    ``import`` and the file's batch as reference. Returns (level, created)."""
    return stock_set_count(
        product=product,
        warehouse=warehouse,
        counted=counted,
        kind=StockMovement.Kind.IMPORT,
        note=IMPORT_NOTE,
        reference=reference,
        bin=bin,
        reorder_point=reorder_point,
        actor=actor,
    )
