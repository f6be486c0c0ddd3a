"""Stock count imports: counted quantities, exact ledger rows, all or nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.exports import stock_csv_rows
from inventory.imports import STOCK_COLUMNS, import_stock
from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from inventory.services import stock_reserve
from kernel.csvio import CsvFileError
from tests.conftest import postgres_only
from tests.csvio.conftest import assert_nothing_written, csv_bytes, snapshot
from tests.factories import receive

HEADER = ["sku", "warehouse", "on_hand", "bin", "reorder_point"]


def movements():
    return sorted(
        StockMovement.objects.values_list(
            "product__sku",
            "warehouse__code",
            "kind",
            "on_hand_delta",
            "reserved_delta",
            "reference",
        )
    )


def test_import_sets_counts_and_writes_exact_import_movements(products, warehouses):
    a, b, _ = products
    wh1, wh2 = warehouses
    receive(a, wh1, 10, reference="PO-1")
    data = csv_bytes(
        HEADER,
        [
            ["SKU-A", "WH1", "7", "A-01", "2"],  # counted 7 of 10: -3
            ["SKU-A", "WH2", "4", "", ""],  # a new level: +4
            ["SKU-B", "WH1", "0", "B-01", ""],  # new, nothing on hand: no movement
        ],
    )
    result = import_stock(data, actor="ana")

    assert (result.new, result.updated, result.unchanged) == (2, 1, 0)
    assert result.batch.startswith("IMP-")
    assert movements() == sorted(
        [
            ("SKU-A", "WH1", "receipt", 10, 0, "PO-1"),
            ("SKU-A", "WH1", "import", -3, 0, result.batch),
            ("SKU-A", "WH2", "import", 4, 0, result.batch),
        ]
    )
    assert StockMovement.objects.filter(kind="import").values_list("actor", flat=True)[0] == "ana"
    level = StockLevel.objects.get(product=a, warehouse=wh1)
    assert (level.on_hand, level.bin, level.reorder_point) == (7, "A-01", 2)
    new_b = StockLevel.objects.get(product=b, warehouse=wh1)
    assert (new_b.on_hand, new_b.bin) == (0, "B-01")
    assert stock_ledger_mismatches() == []
    out = io.StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "clean" in out.getvalue()


def test_second_import_of_each_batch_gets_its_own_reference(products, warehouses):
    first = import_stock(csv_bytes(HEADER, [["SKU-A", "WH1", "5", "", ""]]))
    second = import_stock(csv_bytes(HEADER, [["SKU-A", "WH1", "6", "", ""]]))
    assert first.batch != second.batch
    assert StockMovement.objects.filter(reference=second.batch).get().on_hand_delta == 1


def test_round_trip_export_then_import_changes_nothing(products, warehouses):
    a, b, c = products
    receive(a, warehouses[0], 10)
    receive(b, warehouses[1], 3)
    stock_reserve(product=a, warehouse=warehouses[0], quantity=4)
    import_stock(csv_bytes(HEADER, [["SKU-C", "WH2", "8", "C-9", "1"]]))
    exported = csv_bytes(STOCK_COLUMNS, list(stock_csv_rows()))
    before = snapshot()

    result = import_stock(exported)

    assert (result.new, result.updated, result.unchanged) == (0, 0, 3)
    assert_nothing_written(before)


def test_a_count_below_reserved_rejects_the_whole_file(products, warehouses):
    a, b, _ = products
    receive(a, warehouses[0], 10)
    stock_reserve(product=a, warehouse=warehouses[0], quantity=6)
    before = snapshot()
    data = csv_bytes(HEADER, [["SKU-B", "WH1", "9", "", ""], ["SKU-A", "WH1", "5", "", ""]])

    with pytest.raises(CsvFileError) as info:
        import_stock(data)

    (error,) = info.value.errors
    assert (error.row, error.column, error.value) == (3, "on_hand", "5")
    assert "6 are reserved" in error.message
    assert_nothing_written(before)  # SKU-B's new level rolled back too


@pytest.mark.parametrize(
    "row, column, words",
    [
        (["SKU-X", "WH1", "3", "", ""], "sku", "Unknown SKU 'SKU-X'"),
        (["SKU-A", "WH9", "3", "", ""], "warehouse", "Unknown warehouse 'WH9'"),
        (["SKU-A", "WH1", "2.5", "", ""], "on_hand", "whole number"),
        (["SKU-A", "WH1", "-1", "", ""], "on_hand", "negative"),
        (["SKU-A", "WH1", "", "", ""], "on_hand", "required"),
        (["SKU-A", "WH1", "3", "", "x"], "reorder_point", "whole number"),
        (["SKU-A", "WH1", "3", "B" * 40, ""], "bin", "too long"),
        (["SKU-B", "WH2", "1", "", ""], "sku", "duplicate row"),
    ],
)
def test_bad_rows_reject_the_file_and_name_row_and_column(products, warehouses, row, column, words):
    receive(products[0], warehouses[0], 2)
    before = snapshot()
    rows = [["SKU-A", "WH2", "1", "", ""], ["SKU-B", "WH2", "1", "", ""], row]
    with pytest.raises(CsvFileError) as info:
        import_stock(csv_bytes(HEADER, rows))
    (error,) = info.value.errors
    assert (error.row, error.column) == (4, column)
    assert words in error.message
    assert_nothing_written(before)


def test_every_bad_row_is_reported(products, warehouses):
    rows = [
        ["SKU-X", "WH1", "1", "", ""],
        ["SKU-A", "WH1", "1,5", "", ""],
        ["SKU-B", "WHX", "x", "", ""],
    ]
    with pytest.raises(CsvFileError) as info:
        import_stock(csv_bytes(HEADER, rows, delimiter=";"))
    assert [(e.row, e.column) for e in info.value.errors] == [
        (2, "sku"),
        (3, "on_hand"),
        (4, "on_hand"),
        (4, "warehouse"),
    ]


def test_dry_run_counts_but_writes_nothing(products, warehouses):
    receive(products[0], warehouses[0], 2)
    before = snapshot()
    result = import_stock(
        csv_bytes(HEADER, [["SKU-A", "WH1", "5", "", ""], ["SKU-B", "WH1", "1", "", ""]]),
        dry_run=True,
    )
    assert (result.new, result.updated, result.dry_run) == (1, 1, True)
    assert_nothing_written(before)


def test_command_prints_a_summary_and_rejects_bad_files(products, warehouses, tmp_path):
    good = tmp_path / "stock.csv"
    good.write_bytes(csv_bytes(HEADER, [["SKU-A", "WH1", "5", "", ""]], bom=True))
    out = io.StringIO()
    call_command("import_stock", str(good), stdout=out)
    assert "new 1" in out.getvalue() and "rows/s" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(HEADER, [["SKU-A", "WH1", "abc", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="rejected: 1 error"):
        call_command("import_stock", str(bad), stdout=io.StringIO(), stderr=err)
    assert "row 2, column on_hand" in err.getvalue()


def test_export_stock_command_writes_the_import_columns(products, warehouses, tmp_path):
    receive(products[0], warehouses[0], 4)
    target = tmp_path / "out.csv"
    call_command("export_stock", "-o", str(target), stderr=io.StringIO())
    assert target.read_text().splitlines() == [",".join(HEADER), "SKU-A,WH1,4,,0"]


@postgres_only  # the COPY writer's ON CONFLICT fallback
def test_a_level_created_meanwhile_is_counted_by_the_general_path(
    products, warehouses, monkeypatch
):
    """A file's new levels are inserted with their counts; if another transaction
    created one of them meanwhile (ON CONFLICT DO NOTHING skips it), that level is
    locked and counted as an existing one, with its own movement, the ledger staying
    true."""
    from inventory.counting_sql import CopyCountWriter

    a, _, _ = products
    wh1, _ = warehouses
    plain_create = CopyCountWriter.create

    def created_meanwhile(self, new):
        receive(a, wh1, 10, reference="PO-1")  # as another request would
        return plain_create(self, new)

    monkeypatch.setattr(CopyCountWriter, "create", created_meanwhile)
    data = csv_bytes(HEADER, [["SKU-A", "WH1", "7", "A-01", ""], ["SKU-B", "WH1", "3", "", ""]])
    result = import_stock(data)

    assert (result.new, result.updated, result.unchanged) == (1, 1, 0)
    assert movements() == sorted(
        [
            ("SKU-A", "WH1", "receipt", 10, 0, "PO-1"),
            ("SKU-A", "WH1", "import", -3, 0, result.batch),
            ("SKU-B", "WH1", "import", 3, 0, result.batch),
        ]
    )
    assert StockLevel.objects.get(product=a, warehouse=wh1).bin == "A-01"
    assert stock_ledger_mismatches() == []


def test_a_first_import_of_many_levels_takes_the_plain_insert(products, warehouses):
    rows = [
        [sku, code, str(n), f"B-{n}", str(n % 3)]
        for n, (sku, code) in enumerate(
            [(s, w) for s in ("SKU-A", "SKU-B", "SKU-C") for w in ("WH1", "WH2")]
        )
    ]
    result = import_stock(csv_bytes(HEADER, rows))

    assert (result.new, result.updated, result.unchanged) == (6, 0, 0)
    assert StockMovement.objects.filter(kind="import").count() == 5  # not for the 0 count
    assert sorted(StockLevel.objects.values_list("on_hand", "bin", "reorder_point")) == [
        (n, f"B-{n}", n % 3) for n in range(6)
    ]
    assert stock_ledger_mismatches() == []
    again = import_stock(csv_bytes(HEADER, rows))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 6)
