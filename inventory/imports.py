"""CSV imports of products and stock counts: whole-file validation, then one transaction.

``import_products`` upserts by sku; ``import_stock`` sets counted quantities and writes
the difference to the ledger as ``import`` movements whose reference is the import's
batch number (``IMP-000001``). Both validate the whole file in memory with a handful of
queries (all SKUs in one), raise :class:`oms.csvio.CsvFileError` listing every bad row,
and only then write, in one transaction.

On PostgreSQL the rows are loaded with COPY into a temporary table and applied with
set-based SQL: a file of levels that do not exist yet (a first import) takes two plain
``INSERT ... SELECT`` (levels, then their ledger rows) in a savepoint; otherwise, or if
a level was created meanwhile, ``INSERT ... ON CONFLICT`` creates the missing levels
with their ledger rows, and the levels that change are locked (``SELECT ... FOR
UPDATE`` ordered by id, the order ``inventory.services`` uses), updated and given their
ledger rows in one statement. Other databases take an ORM path through
``inventory.services.stock_apply`` that gives the same result.

Most of the time of a big first import is the database checking the foreign keys of
every new level and ledger row (product, warehouse; four checks a row, at commit);
nothing here skips them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import (
    MAX_QUANTITY,
    StockChange,
    _check_quantity,
    _ensure_levels,
    _offer_to_backorders,
    _tell_listeners,
    stock_apply,
    stock_lock_levels,
    stock_mark_changed,
    stock_set_location,
)
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
    check_length,
    copy_rows,
    gc_paused,
    in_chunks,
    parse_bool,
    parse_decimal,
    parse_distinct,
    parse_whole,
    read_csv,
)
from oms.numbering import next_number

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "barcode",
    "price",
    "weight_grams",
    "length_cm",
    "width_cm",
    "height_cm",
    "lead_time_days",
    "active",
)
PRODUCT_REQUIRED = ("sku", "name")
PRODUCT_DECIMALS = ("price", "length_cm", "width_cm", "height_cm")
STOCK_COLUMNS = ("sku", "warehouse", "on_hand", "bin", "reorder_point")
STOCK_REQUIRED = ("sku", "warehouse", "on_hand")

MAX_PRICE = Decimal("9999999999.99")
MAX_DIMENSION = Decimal("9999999.9")
MAX_INT = 2_147_483_647
MAX_LEAD_TIME_DAYS = 3650
IMPORT_NOTE = "CSV import"
DRY_RUN_BATCH = "(dry run)"


def _noop(done: int, total: int, phase: str = "") -> None:
    return None


def _lookup_chunk() -> int:
    return 20_000 if connection.vendor == "postgresql" else 900


def _batch(dry_run: bool) -> str:
    return DRY_RUN_BATCH if dry_run else next_number("import")


def _as_table(data, columns, required, decimals=()) -> CsvTable:
    if isinstance(data, CsvTable):
        return data
    return read_csv(data, columns=columns, required=required, decimals=decimals)


# --------------------------------------------------------------------------- products

_PRODUCT_PARSERS = {
    "barcode": lambda v: check_length(v, 32),
    "price": lambda v: parse_decimal(v, places=2, maximum=MAX_PRICE),
    "weight_grams": lambda v: parse_whole(v, maximum=MAX_INT),
    "length_cm": lambda v: parse_decimal(v, places=1, maximum=MAX_DIMENSION),
    "width_cm": lambda v: parse_decimal(v, places=1, maximum=MAX_DIMENSION),
    "height_cm": lambda v: parse_decimal(v, places=1, maximum=MAX_DIMENSION),
    "lead_time_days": lambda v: parse_whole(v, maximum=MAX_LEAD_TIME_DAYS),
    "active": lambda v: parse_bool(v),
}
_PRODUCT_FIELDS = PRODUCT_COLUMNS[1:]
_PRODUCT_DEFAULTS = {
    "barcode": "",
    "price": Decimal("0.00"),
    "weight_grams": 0,
    "length_cm": Decimal("0.0"),
    "width_cm": Decimal("0.0"),
    "height_cm": Decimal("0.0"),
    "lead_time_days": 7,
    "active": True,
}


@dataclass
class ProductRow:
    row: int
    sku: str
    values: dict  # the columns given on this row (a blank optional cell keeps the value)


def validate_products(table: CsvTable, progress: Progress | None = None) -> list[ProductRow]:
    """Every row checked; CsvFileError if any is bad."""
    progress = progress or _noop
    errors = ErrorCollector()
    idx = {c: table.index(c) for c in PRODUCT_COLUMNS if table.has(c)}
    optional = [(c, idx[c], _PRODUCT_PARSERS[c]) for c in _PRODUCT_PARSERS if c in idx]
    seen: dict[str, int] = {}
    barcodes: dict[str, tuple[str, int]] = {}
    parsed: list[ProductRow] = []
    total = len(table)
    for i, (cells, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if i % PROGRESS_EVERY == 0:
            progress(i, total, "validating")
        sku = cells[idx["sku"]]
        if not sku:
            errors.add(number, "sku", sku, "sku is required")
        elif len(sku) > 64:
            errors.add(number, "sku", sku, "is too long (at most 64 characters)")
        elif sku in seen:
            errors.add(
                number, "sku", sku, f"duplicate row: SKU {sku} is already on row {seen[sku]}"
            )
        else:
            seen[sku] = number
        values: dict = {}
        name = cells[idx["name"]]
        if not name:
            errors.add(number, "name", name, "name is required")
        elif len(name) > 255:
            errors.add(number, "name", name[:50], "is too long (at most 255 characters)")
        else:
            values["name"] = name
        for column, position, parse in optional:
            cell = cells[position]
            if not cell:
                continue
            try:
                values[column] = parse(cell)
            except ValueError as exc:
                errors.add(number, column, cell, f"{column} {exc}")
        barcode = values.get("barcode")
        if barcode:
            if barcode in barcodes and barcodes[barcode][0] != sku:
                errors.add(
                    number,
                    "barcode",
                    barcode,
                    f"barcode {barcode} is also given to {barcodes[barcode][0]} on row "
                    f"{barcodes[barcode][1]}",
                )
            barcodes.setdefault(barcode, (sku, number))
        parsed.append(ProductRow(number, sku, values))
    if barcodes:
        owners: dict[str, str] = {}
        keys = list(barcodes)
        for chunk in in_chunks(keys, _lookup_chunk()):
            owners.update(Product.objects.filter(barcode__in=chunk).values_list("barcode", "sku"))
        new_barcode_of = {r.sku: r.values.get("barcode") for r in parsed}
        for barcode, owner in owners.items():
            sku, number = barcodes[barcode]
            owner_moves_away = owner in new_barcode_of and new_barcode_of[owner] not in (
                None,
                barcode,
            )
            if owner != sku and not owner_moves_away:
                errors.add(
                    number, "barcode", barcode, f"barcode {barcode} belongs to product {owner}"
                )
    progress(total, total, "validating")
    errors.raise_if_any(rows=total)
    return parsed


def import_products(
    data, *, dry_run: bool = False, actor=None, progress: Progress | None = None
) -> ImportResult:
    """Upsert products by sku from a CSV file (bytes/text) or a CsvTable.

    Columns other than sku and name are optional; a missing column or a blank cell keeps
    the product's current value (a new product gets the model default). Raises
    CsvFileError, writing nothing, if any row is bad."""
    with gc_paused():
        return _import_products(data, dry_run=dry_run, actor=actor, progress=progress)


def _import_products(data, *, dry_run: bool, actor, progress: Progress | None) -> ImportResult:
    timer = Timer()
    progress = progress or _noop
    table = _as_table(data, PRODUCT_COLUMNS, PRODUCT_REQUIRED, PRODUCT_DECIMALS)
    timer.mark("read")
    rows = validate_products(table, progress)
    timer.mark("validate")
    result = ImportResult(kind="products", rows=len(rows), dry_run=dry_run)
    try:
        with transaction.atomic():
            _write_products(rows, result)
            progress(len(rows), len(rows), "writing")
            timer.mark("write")
            if dry_run:
                raise Rollback
    except Rollback:
        pass
    except IntegrityError as exc:
        raise CsvFileError(
            [RowError(0, "", "", f"The database refused the file: {exc}".strip())]
        ) from exc
    timer.mark("commit" if not dry_run else "rollback")
    result.extra["phases"] = timer.phases
    result.seconds = timer.seconds
    return result


def _write_products(rows: list[ProductRow], result: ImportResult) -> None:
    existing: dict[str, dict] = {}
    skus = [r.sku for r in rows]
    for chunk in in_chunks(skus, _lookup_chunk()):
        for values in Product.objects.filter(sku__in=chunk).values("id", "sku", *_PRODUCT_FIELDS):
            existing[values["sku"]] = values
    new: list[dict] = []
    changed: list[dict] = []
    for row in rows:
        current = existing.get(row.sku)
        if current is None:
            new.append({"sku": row.sku, **_PRODUCT_DEFAULTS, **row.values})
            continue
        merged = {**current, **row.values}
        if any(merged[f] != current[f] for f in row.values):
            changed.append(merged)
    result.new, result.updated = len(new), len(changed)
    result.unchanged = len(rows) - len(new) - len(changed)
    if not new and not changed:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        columns = ("sku", *_PRODUCT_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE _oms_product_import (LIKE inventory_product INCLUDING DEFAULTS)"
                " ON COMMIT DROP"
            )
            cursor.execute("ALTER TABLE _oms_product_import DROP COLUMN id")
            copy_rows(
                cursor,
                "_oms_product_import",
                (*columns, "created_at", "updated_at"),
                ([v[c] for c in columns] + [now, now] for v in (*new, *changed)),
            )
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _PRODUCT_FIELDS)
            cursor.execute(
                f"INSERT INTO inventory_product ({', '.join(columns)}, created_at, updated_at) "
                f"SELECT {', '.join(columns)}, created_at, updated_at FROM _oms_product_import "
                f"ORDER BY sku ON CONFLICT (sku) DO UPDATE SET {updates}, "
                "updated_at = EXCLUDED.updated_at"
            )
            cursor.execute("DROP TABLE _oms_product_import")
        return
    Product.objects.bulk_create([Product(**values) for values in new], batch_size=500)
    if changed:
        fields = [*_PRODUCT_FIELDS, "updated_at"]
        objects = []
        for values in changed:
            product = Product(**{k: v for k, v in values.items()})
            product.updated_at = now
            objects.append(product)
        Product.objects.bulk_update(objects, fields, batch_size=200)


# --------------------------------------------------------------------------- stock


def _level_changes(s: str) -> str:
    """SQL: the existing level ``s`` differs from the file's row ``t``."""
    return (
        f"({s}.on_hand <> t.on_hand OR {s}.bin <> COALESCE(t.bin, {s}.bin)"
        f" OR {s}.reorder_point <> COALESCE(t.reorder_point, {s}.reorder_point))"
    )


class StockRow(NamedTuple):
    row: int
    sku: str
    warehouse: str
    product_id: int
    warehouse_id: int
    on_hand: int
    bin: str | None  # None: keep the current value
    reorder_point: int | None


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
    return RowError(
        row.row,
        "on_hand",
        str(row.on_hand),
        f"Counted {row.on_hand} of {row.sku} at {row.warehouse} but {reserved} are reserved "
        "for orders; release or re-route them first",
    )


def import_stock(
    data, *, dry_run: bool = False, actor=None, progress: Progress | None = None
) -> ImportResult:
    """Set counted quantities (and bins and reorder points when given) from a CSV file.

    Each difference is one ``import`` movement with the batch number as reference. A
    row counting fewer than are reserved rejects the file. Raises CsvFileError, writing
    nothing, if any row is bad. Locks the stock levels it changes, in id order."""
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
            if connection.vendor == "postgresql":
                _write_stock_sql(rows, result, actor_name(actor))
            else:
                _write_stock_orm(rows, result, actor)
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


_STOCK_TEMP = "_oms_stock_import"
_STOCK_TEMP_COLUMNS = (
    "row_no",
    "sku",
    "warehouse",
    "product_id",
    "warehouse_id",
    "on_hand",
    "bin",
    "reorder_point",
)
_MOVEMENT_COLUMNS = (
    "product_id, warehouse_id, kind, on_hand_delta, reserved_delta, reference, note, actor, "
    "created_at"
)


def _write_stock_sql(rows: list[StockRow], result: ImportResult, actor: str) -> None:
    """COPY the rows into a temporary table, then set-based SQL:

    - when none of the file's levels exists yet (a first import), two plain
      ``INSERT ... SELECT`` (levels, then their movements) in a savepoint; if a level
      was created meanwhile by someone else (unique violation) the savepoint is rolled
      back and the general path below does the work;
    - otherwise missing levels are created (``ON CONFLICT DO NOTHING``) with their
      movements in one statement, then the existing levels that change are locked in
      id order (``FOR UPDATE``), checked against what is reserved, updated and given
      their movements in one more statement.
    """
    params = {"ref": result.batch, "note": IMPORT_NOTE, "actor": actor}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # sorts and joins in memory
        cursor.execute(
            f"CREATE TEMP TABLE {_STOCK_TEMP} (row_no integer, sku text, warehouse text, "
            "product_id bigint, warehouse_id bigint, on_hand integer, bin varchar(32), "
            "reorder_point integer) ON COMMIT DROP"
        )
        copy_rows(cursor, _STOCK_TEMP, _STOCK_TEMP_COLUMNS, rows)  # StockRow's fields
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_STOCK_TEMP} t JOIN inventory_stocklevel s "
            "ON s.product_id = t.product_id AND s.warehouse_id = t.warehouse_id)"
        )
        if not cursor.fetchone()[0] and _insert_new_levels(cursor, params):
            created, updated = len(rows), 0
            arrived = {r.product_id for r in rows if r.on_hand > 0}
        else:
            created, updated, arrived = _upsert_levels(cursor, rows, params)
        # The channels' change marks: every level this transaction wrote (its
        # updated_at is the transaction's now()).
        cursor.execute(
            f"""
            INSERT INTO inventory_stockchangemark (level_id, product_id, marked_at)
            SELECT s.id, s.product_id, now()
            FROM inventory_stocklevel s
            JOIN {_STOCK_TEMP} t
              ON s.product_id = t.product_id AND s.warehouse_id = t.warehouse_id
            WHERE s.updated_at = now()
            ORDER BY s.id
            ON CONFLICT (level_id) DO UPDATE SET marked_at = EXCLUDED.marked_at
            """
        )
        cursor.execute(f"DROP TABLE {_STOCK_TEMP}")
    if created or updated:
        _tell_listeners({r.product_id for r in rows})
    result.new = created
    result.updated = updated
    result.unchanged = len(rows) - created - updated
    _offer_to_backorders(arrived)


def _insert_new_levels(cursor, params: dict) -> bool:
    """Every row of the file is a new level: plain inserts of the levels (in key order,
    as every import inserts them) and of their movements. False, with nothing written,
    if a level was created meanwhile by another transaction."""
    try:
        with transaction.atomic():
            cursor.execute(
                f"""
                INSERT INTO inventory_stocklevel
                    (product_id, warehouse_id, on_hand, reserved, bin, reorder_point, updated_at)
                SELECT product_id, warehouse_id, on_hand, 0, COALESCE(bin, ''),
                       COALESCE(reorder_point, 0), now()
                FROM {_STOCK_TEMP}
                ORDER BY product_id, warehouse_id
                """
            )
            cursor.execute(
                f"""
                INSERT INTO inventory_stockmovement ({_MOVEMENT_COLUMNS})
                SELECT product_id, warehouse_id, 'import', on_hand, 0,
                       %(ref)s, %(note)s, %(actor)s, now()
                FROM {_STOCK_TEMP}
                WHERE on_hand <> 0
                """,
                params,
            )
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "23505":  # not a unique violation
            raise
        return False
    return True


def _upsert_levels(cursor, rows: list[StockRow], params: dict) -> tuple[int, int, set[int]]:
    """The general path: returns (levels created, levels changed, product ids whose
    on_hand went up)."""
    # 1. Levels that do not exist yet are created with their counted quantity (no one
    #    else can see them before we commit) and get their movement at once.
    cursor.execute(
        f"""
        WITH ins AS (
            INSERT INTO inventory_stocklevel
                (product_id, warehouse_id, on_hand, reserved, bin, reorder_point, updated_at)
            SELECT t.product_id, t.warehouse_id, t.on_hand, 0, COALESCE(t.bin, ''),
                   COALESCE(t.reorder_point, 0), now()
            FROM {_STOCK_TEMP} t
            WHERE NOT EXISTS (
                SELECT 1 FROM inventory_stocklevel s
                WHERE s.product_id = t.product_id AND s.warehouse_id = t.warehouse_id)
            ORDER BY t.product_id, t.warehouse_id
            ON CONFLICT (product_id, warehouse_id) DO NOTHING
            RETURNING product_id, warehouse_id, on_hand
        ), mv AS (
            INSERT INTO inventory_stockmovement ({_MOVEMENT_COLUMNS})
            SELECT product_id, warehouse_id, 'import', on_hand, 0,
                   %(ref)s, %(note)s, %(actor)s, now()
            FROM ins WHERE on_hand <> 0
            RETURNING product_id
        )
        SELECT (SELECT count(*) FROM ins), ARRAY(SELECT DISTINCT product_id FROM mv)
        """,
        params,
    )
    created, arrived = cursor.fetchone()
    arrived = set(arrived)
    # 2. Lock the existing levels this file changes, in id order (``locked`` holds their
    #    values under the lock), update those not counted below what they have
    #    reserved, and write the movement of each changed count; one statement.
    cursor.execute(
        f"""
        WITH locked AS MATERIALIZED (
            SELECT s.id, s.product_id, s.warehouse_id, s.on_hand AS old_on_hand, s.reserved,
                   t.row_no, t.on_hand, t.bin, t.reorder_point
            FROM inventory_stocklevel s
            JOIN {_STOCK_TEMP} t
              ON s.product_id = t.product_id AND s.warehouse_id = t.warehouse_id
            WHERE {_level_changes("s")}
            ORDER BY s.id
            FOR UPDATE OF s
        ), upd AS (
            UPDATE inventory_stocklevel s
            SET on_hand = l.on_hand,
                bin = COALESCE(l.bin, s.bin),
                reorder_point = COALESCE(l.reorder_point, s.reorder_point),
                updated_at = now()
            FROM locked l
            WHERE s.id = l.id AND l.on_hand >= l.reserved
            RETURNING s.product_id, l.on_hand - l.old_on_hand AS delta
        ), mv AS (
            INSERT INTO inventory_stockmovement ({_MOVEMENT_COLUMNS})
            SELECT product_id, warehouse_id, 'import', on_hand - old_on_hand, 0,
                   %(ref)s, %(note)s, %(actor)s, now()
            FROM locked
            WHERE on_hand <> old_on_hand AND on_hand >= reserved
            ORDER BY id
        )
        SELECT (SELECT count(*) FROM locked),
               ARRAY(SELECT row_no FROM locked WHERE on_hand < reserved),
               ARRAY(SELECT reserved FROM locked WHERE on_hand < reserved),
               (SELECT count(*) FROM upd),
               ARRAY(SELECT DISTINCT product_id FROM upd WHERE delta > 0)
        """,
        params,
    )
    locked, below_rows, below_reserved, updated, raised = cursor.fetchone()
    if below_rows:  # the whole file is rejected: the transaction is rolled back
        by_row = {r.row: r for r in rows}
        errors = [
            _below_reserved(by_row[row_no], reserved)
            for row_no, reserved in zip(below_rows, below_reserved, strict=True)
        ]
        raise CsvFileError(errors, rows=len(rows))
    if updated != locked:  # cannot happen: the levels are locked
        raise RuntimeError(f"stock import: {locked} levels locked but {updated} updated")
    return created, updated, arrived | set(raised)


def _write_stock_orm(rows: list[StockRow], result: ImportResult, actor) -> None:
    product_ids = sorted({r.product_id for r in rows})
    pairs = {(r.product_id, r.warehouse_id) for r in rows}

    def load() -> dict[tuple[int, int], StockLevel]:
        levels = {}
        for chunk in in_chunks(product_ids, _lookup_chunk()):
            query = StockLevel.objects.select_related("product", "warehouse").filter(
                product_id__in=chunk
            )
            if connection.features.has_select_for_update:
                query = query.select_for_update(of=("self",)).order_by("pk")
            for level in query:
                key = (level.product_id, level.warehouse_id)
                if key in pairs:
                    levels[key] = level
        return levels

    levels = load()
    missing = [r for r in rows if (r.product_id, r.warehouse_id) not in levels]
    if missing:
        # New levels get their counted quantity at once (as on PostgreSQL), each with
        # its movement; no one else can change them before we commit.
        StockLevel.objects.bulk_create(
            [
                StockLevel(
                    product_id=r.product_id,
                    warehouse_id=r.warehouse_id,
                    on_hand=r.on_hand,
                    bin=r.bin or "",
                    reorder_point=r.reorder_point or 0,
                )
                for r in missing
            ],
            batch_size=500,
        )
        name = actor_name(actor)
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    product_id=r.product_id,
                    warehouse_id=r.warehouse_id,
                    kind=StockMovement.Kind.IMPORT,
                    on_hand_delta=r.on_hand,
                    reference=result.batch,
                    note=IMPORT_NOTE,
                    actor=name,
                )
                for r in missing
                if r.on_hand
            ],
            batch_size=500,
        )
        _offer_to_backorders({r.product_id for r in missing if r.on_hand})
        missing_keys = {(r.product_id, r.warehouse_id) for r in missing}
        marks = []
        for chunk in in_chunks(sorted({r.product_id for r in missing}), _lookup_chunk()):
            for pk, p, w in StockLevel.objects.filter(product_id__in=chunk).values_list(
                "pk", "product_id", "warehouse_id"
            ):
                if (p, w) in missing_keys:
                    marks.append((pk, p))
        stock_mark_changed(marks=marks)
    new_keys = {(r.product_id, r.warehouse_id) for r in missing}
    errors: list[RowError] = []
    changes: list[StockChange] = []
    relocated: list[StockLevel] = []
    updated = 0
    for row in rows:
        key = (row.product_id, row.warehouse_id)
        if key in new_keys:
            continue
        level = levels[key]
        if row.on_hand < level.reserved:
            errors.append(_below_reserved(row, level.reserved))
            continue
        changed = False
        if row.on_hand != level.on_hand:
            changes.append(
                StockChange(
                    row.product_id,
                    row.warehouse_id,
                    StockMovement.Kind.IMPORT,
                    row.on_hand - level.on_hand,
                    0,
                    result.batch,
                    IMPORT_NOTE,
                )
            )
            changed = True
        if (row.bin is not None and row.bin != level.bin) or (
            row.reorder_point is not None and row.reorder_point != level.reorder_point
        ):
            level.bin = level.bin if row.bin is None else row.bin
            if row.reorder_point is not None:
                level.reorder_point = row.reorder_point
            relocated.append(level)
            changed = True
        if changed:
            updated += 1
    if errors:
        raise CsvFileError(errors, rows=len(rows))
    if changes:
        stock_apply(changes=changes, actor=actor, levels=levels)
    if relocated:
        now = timezone.now()
        for level in relocated:
            level.updated_at = now
        StockLevel.objects.bulk_update(
            relocated, ["bin", "reorder_point", "updated_at"], batch_size=500
        )
    result.new = len(missing)
    result.updated = updated
    result.unchanged = len(rows) - len(missing) - updated


# --------------------------------------------------------------------------- one row


@transaction.atomic
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
    """Set one level's counted quantity (the admin's import rows): the difference is an
    ``import`` movement. Returns (level, created). Refused (InsufficientStock) when
    fewer are counted than are reserved. Locks the one level."""
    _check_quantity(counted, field="on_hand", allow_zero=True)
    key = (product.pk, warehouse.pk)
    created = not StockLevel.objects.filter(product=product, warehouse=warehouse).exists()
    _ensure_levels([key])
    level = stock_lock_levels(pairs=[key])[key]
    if counted < level.reserved:
        raise InsufficientStock(
            f"Counted {counted} of {product.sku} at {warehouse.code} but {level.reserved} "
            "are reserved for orders; release or re-route them first",
            field="on_hand",
        )
    if counted != level.on_hand:
        stock_apply(
            changes=[
                StockChange(
                    product.pk,
                    warehouse.pk,
                    StockMovement.Kind.IMPORT,
                    counted - level.on_hand,
                    0,
                    reference,
                    IMPORT_NOTE,
                )
            ],
            actor=actor,
            levels={key: level},
        )
    new_bin = level.bin if bin is None else bin
    new_rp = level.reorder_point if reorder_point is None else reorder_point
    if (new_bin, new_rp) != (level.bin, level.reorder_point):
        stock_set_location(level=level, bin=new_bin, reorder_point=new_rp)
    return level, created


def batch_number(*, dry_run: bool = False) -> str:
    """The reference of one import's movements (IMP-000001); none for a dry run."""
    return _batch(dry_run)


__all__ = [
    "CsvFileError",
    "import_products",
    "import_stock",
    "stock_import_row",
    "validate_products",
    "validate_stock",
]
