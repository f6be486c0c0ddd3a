"""Product rows: validation of the whole file, then one upsert by sku."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.imports.common import (
    MAX_DIMENSION,
    MAX_INT,
    MAX_LEAD_TIME_DAYS,
    MAX_PRICE,
    PRODUCT_COLUMNS,
    PRODUCT_DECIMALS,
    PRODUCT_REQUIRED,
    _as_table,
    _lookup_chunk,
    _noop,
)
from inventory.models import Product
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
    check_length,
    copy_rows,
    gc_paused,
    in_chunks,
    parse_bool,
    parse_decimal,
    parse_whole,
)

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
