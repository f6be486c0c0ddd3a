"""One stock file, three entry points, one result.

The same stock CSV goes through the admin's import (django-import-export resource), the
imports page's job, and the count service called row by row; each run starts from the
same stock and is rolled back afterwards. They must leave identical levels and ledger
rows, and reject a bad file with identical per-row error reports, writing nothing.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from inventory.counting import CountsBelowReserved
from inventory.imports import STOCK_COLUMNS, batch_number, stock_import_row
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.resources import StockLevelResource
from inventory.selectors import stock_ledger_mismatches
from inventory.services import stock_reserve
from kernel.csv_admin import CsvFormat, row_error_text
from kernel.models import ImportJob
from tests.csvio.conftest import csv_bytes
from tests.factories import receive

GOOD = [
    ["SKU-A", "WH1", "7", "A-01", "2"],  # counted 7 of 10 (2 reserved): -3, bin and point
    ["SKU-A", "WH2", "4", "", ""],  # a new level: +4
    ["SKU-B", "WH1", "0", "B-01", ""],  # new, nothing on hand: no movement
    ["SKU-B", "WH2", "3", "B-NEW", ""],  # same count, new bin: no movement
    ["SKU-C", "WH2", "5", "", "1"],  # new: +5
    ["SKU-C", "WH1", "6", "", ""],  # unchanged
]
BELOW_RESERVED = [
    ["SKU-A", "WH1", "1", "", ""],  # 2 reserved
    ["SKU-B", "WH2", "3", "", ""],
    ["SKU-C", "WH1", "0", "", ""],  # 4 reserved
]
MALFORMED = [
    ["SKU-X", "WH1", "3", "", ""],
    ["SKU-A", "WH1", "2.5", "", ""],
    ["SKU-B", "WH9", "1", "", "x"],
    ["SKU-C", "WH2", "1", "B" * 40, ""],
    ["SKU-B", "WH1", "1", "", ""],
    ["SKU-B", "WH1", "2", "", ""],
    ["SKU-A", "WH2", "-1", "", ""],
]


class _Undo(Exception):
    pass


@pytest.fixture
def manager(db):
    user = User.objects.create_user("mia", password="pw-123456")
    user.groups.add(Group.objects.get(name="manager"))
    return user


@pytest.fixture
def stock(products, warehouses):
    a, b, c = products
    wh1, wh2 = warehouses
    receive(a, wh1, 10, reference="PO-1")
    stock_reserve(product=a, warehouse=wh1, quantity=2, reference="SO-1")
    receive(b, wh2, 3, reference="PO-2")
    StockLevel.objects.filter(product=b, warehouse=wh2).update(bin="B-OLD", reorder_point=5)
    receive(c, wh1, 6, reference="PO-3")
    stock_reserve(product=c, warehouse=wh1, quantity=4, reference="SO-2")


def outcome(batches: set[str]) -> dict:
    """Levels and ledger rows; a batch number reads as ``<batch>``."""
    assert stock_ledger_mismatches() == []
    levels = StockLevel.objects.values_list(
        "product__sku", "warehouse__code", "on_hand", "reserved", "bin", "reorder_point"
    )
    moves = StockMovement.objects.values_list(
        "product__sku",
        "warehouse__code",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "reference",
        "note",
        "reason_code",
        "actor",
    )
    return {
        "levels": sorted(levels),
        "movements": sorted(
            (*m[:5], "<batch>" if m[5] in batches else m[5], *m[6:]) for m in moves
        ),
    }


def run_undone(path, rows, user) -> tuple[dict, object]:
    """Run one entry point on the file in a transaction that is rolled back."""
    data = csv_bytes(STOCK_COLUMNS, rows)
    found = {}
    try:
        with transaction.atomic():
            found["report"], batches = path(data, user)
            found["outcome"] = outcome(batches)
            raise _Undo
    except _Undo:
        pass
    return found["outcome"], found["report"]


def through_admin(data, user):
    resource = StockLevelResource()
    result = resource.import_data(CsvFormat().create_dataset(data), user=user)
    report = sorted(
        (invalid.number + 1, column, text)
        for invalid in result.invalid_rows
        for column, texts in invalid.error_dict.items()
        for text in texts
    )
    return report, {resource._batch}


def through_imports_page(client, capture):
    def run(data, user):
        client.force_login(user)
        with capture(execute=True):
            client.post(
                reverse("imports:list"),
                {"kind": "stock", "file": SimpleUploadedFile("stock.csv", data, "text/csv")},
            )
        job = ImportJob.objects.get()
        report = sorted(
            (e["row"], e["column"], row_error_text(e["message"], e["value"]))
            for e in job.errors or []
        )
        return report, {(job.result or {}).get("batch")}

    return run


def through_the_service_per_row(data, user):
    """The count service row by row (the file's cells are already well formed)."""
    batch = batch_number()
    report = []
    lines = data.decode().splitlines()[1:]
    with transaction.atomic():
        for number, line in enumerate(lines, start=2):
            sku, code, on_hand, bin_, point = line.split(",")
            try:
                stock_import_row(
                    product=Product.objects.get(sku=sku),
                    warehouse=Warehouse.objects.get(code=code),
                    counted=int(on_hand),
                    bin=bin_ or None,
                    reorder_point=int(point) if point else None,
                    reference=batch,
                    actor=user,
                )
            except CountsBelowReserved as exc:
                report.append((number, "on_hand", row_error_text(exc.message, on_hand)))
        if report:  # a bad file is rejected whole
            transaction.set_rollback(True)
    return report, {batch}


@pytest.fixture
def paths(client, django_capture_on_commit_callbacks):
    return {
        "admin": through_admin,
        "imports page": through_imports_page(client, django_capture_on_commit_callbacks),
        "service per row": through_the_service_per_row,
    }


def test_the_same_file_gives_the_same_levels_and_ledger_through_every_entry(stock, manager, paths):
    before = outcome(set())
    results = {name: run_undone(path, GOOD, manager) for name, path in paths.items()}

    first, _ = results["service per row"]
    assert first != before
    assert first["movements"][-3:] == [
        ("SKU-C", "WH1", "receipt", 6, 0, "PO-3", "", "", "system"),
        ("SKU-C", "WH1", "reserve", 0, 4, "SO-2", "", "", "system"),
        ("SKU-C", "WH2", "import", 5, 0, "<batch>", "CSV import", "", "mia"),
    ]
    assert ("SKU-A", "WH1", 7, 2, "A-01", 2) in first["levels"]
    assert ("SKU-B", "WH2", 3, 0, "B-NEW", 5) in first["levels"]
    for name, (result, report) in results.items():
        assert report == [], name
        assert result == first, name
    assert outcome(set()) == before


def test_a_count_below_reserved_is_reported_alike_and_rejects_the_file(stock, manager, paths):
    before = outcome(set())
    results = {name: run_undone(path, BELOW_RESERVED, manager) for name, path in paths.items()}

    expected = [
        (2, "on_hand", "Counted 1 of SKU-A at WH1 but 2 are reserved for orders; release or "
         "re-route them first (value '1')"),
        (4, "on_hand", "Counted 0 of SKU-C at WH1 but 4 are reserved for orders; release or "
         "re-route them first (value '0')"),
    ]  # fmt: skip
    for name, (result, report) in results.items():
        assert report == expected, name
        assert result == before, name


def test_a_malformed_file_is_reported_alike_by_the_admin_and_the_imports_page(
    stock, manager, paths
):
    before = outcome(set())
    admin, admin_report = run_undone(paths["admin"], MALFORMED, manager)
    page, page_report = run_undone(paths["imports page"], MALFORMED, manager)

    assert admin_report == page_report
    assert [(row, column) for row, column, _ in page_report] == [
        (2, "sku"),
        (3, "on_hand"),
        (4, "reorder_point"),
        (4, "warehouse"),
        (5, "bin"),
        (7, "sku"),
        (8, "on_hand"),
    ]
    assert admin == page == before
