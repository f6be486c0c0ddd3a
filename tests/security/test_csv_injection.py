"""CSV formula injection (OWASP "CSV Injection"): text a channel or a user planted
(``=HYPERLINK(...)``, ``@SUM(1+1)``, ``+1+cmd|' /C calc'!A0``, ``-2+3``) comes out of
every CSV we write with a leading ``'``, so a spreadsheet shows it as text instead of
running it; numbers (negative ones too) stay numbers; importing our own export gives
back the very same values."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from inventory.exports import product_csv_rows
from inventory.imports import PRODUCT_COLUMNS, import_products
from inventory.models import Product
from inventory.resources import ProductResource
from kernel.csv_admin import CsvFormat, GuardedCsvFormat
from kernel.csvio import guard_cell, read_csv, unguard_cell, write_csv
from kernel.models import ImportJob
from kernel.roles import MANAGER, sync_groups
from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows
from orders.imports import import_orders
from orders.models import Order
from tests.factories import make_product, make_warehouse, place

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "@SUM(1+1)",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def cells(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def manager_client(client, db):
    sync_groups()
    user = User.objects.create_user("boss", password="pw-123456")
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    return client


def nasty_order(product, payload, external_id):
    return place(
        [(product, 2)],
        external_id=external_id,
        customer={"email": f"c{external_id}@example.com", "name": payload},
        shipping_address={
            "name": payload,
            "line1": payload,
            "line2": payload,
            "city": "Campinas",
            "region": "SP",
            "postcode": "13023-000",
            "country": "BR",
        },
    )


@pytest.mark.parametrize(
    "value, written",
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+55 11 99999-0000", "'+55 11 99999-0000"),
        ("'=already quoted", "''=already quoted"),
        # numbers and harmless text are written as they are
        ("-3", "-3"),
        ("-2.50", "-2.50"),
        (-7, -7),
        (Decimal("-1.25"), Decimal("-1.25")),
        ("O'Brien", "O'Brien"),
        ("'quoted'", "'quoted'"),
        ("Ana Lima", "Ana Lima"),
        ("", ""),
    ],
)
def test_guard_cell_prefixes_formula_text_and_leaves_numbers(value, written):
    assert guard_cell(value) == written
    if isinstance(value, str):
        assert unguard_cell(written) == value


def test_write_csv_keeps_negative_quantities_and_deltas_numeric():
    out = io.StringIO()
    write_csv([["SKU-A", -3, "-4", Decimal("-2.50"), "=1+1"]], out, header=list("abcde"))
    assert out.getvalue().splitlines()[1] == "SKU-A,-3,-4,-2.50,'=1+1"


@pytest.mark.django_db
def test_order_export_command_and_download_guard_every_planted_formula(manager_client, tmp_path):
    product = make_product("SKU-A")
    orders = [nasty_order(product, payload, f"X-{n}") for n, payload in enumerate(PAYLOADS)]
    target = tmp_path / "orders.csv"
    call_command("export_orders", "-o", str(target), stderr=io.StringIO())
    response = manager_client.get("/imports/export/orders.csv")
    assert response.status_code == 200
    downloaded = b"".join(response.streaming_content).decode()
    with open(target, newline="", encoding="utf-8") as written:
        from_command = written.read()
    for text in (from_command, downloaded):
        rows = cells(text)
        assert len(rows) == len(PAYLOADS)
        for row, order in zip(rows, orders, strict=True):
            # (placement trims surrounding spaces and tabs: "\t=1+1" is kept as "=1+1")
            assert row["customer_name"] == "'" + order.customer.name
            for column in ("ship_name", "ship_line1", "ship_line2"):
                assert row[column] == "'" + getattr(order, column), column
            assert row["quantity"] == "2"
        # no cell of the file starts a formula any more
        for row in rows:
            assert not any(v[:1] in "=+-@\t\r" for v in row.values() if v), row


@pytest.mark.django_db
def test_importing_our_own_order_export_gives_back_the_same_values():
    product = make_product("SKU-A")
    originals = [nasty_order(product, payload, f"X-{n}") for n, payload in enumerate(PAYLOADS)]
    out = io.StringIO()
    write_csv(order_csv_rows(), out, header=ORDER_EXPORT_COLUMNS)
    # Same file under new external ids (cells kept exactly as exported), imported back.
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    column = rows[0].index("external_id")
    for row in rows[1:]:
        row[column] = "RT-" + row[column]
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(rows)
    result = import_orders(again.getvalue().encode())
    assert result.new == len(PAYLOADS)
    for original in originals:
        copy = Order.objects.get(external_id="RT-" + original.external_id)
        fields = ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode")
        assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]
        assert copy.customer_id == original.customer_id  # same e-mail, same customer


@pytest.mark.django_db
def test_product_export_guards_names_and_round_trips_through_the_import(tmp_path):
    for n, payload in enumerate(PAYLOADS):
        make_product(f"SKU-{n}", name=payload)
    make_product("SKU-PLAIN", name="-5")  # a name that is a plain number stays as it is
    out = io.StringIO()
    write_csv(product_csv_rows(), out, header=PRODUCT_COLUMNS)
    exported = {r["sku"]: r["name"] for r in cells(out.getvalue())}
    assert exported["SKU-0"] == "'" + PAYLOADS[0]
    assert exported["SKU-PLAIN"] == "-5"
    before = dict(Product.objects.values_list("sku", "name"))
    Product.objects.update(name="changed")
    result = import_products(out.getvalue().encode())
    assert result.updated == len(before)
    assert dict(Product.objects.values_list("sku", "name")) == before


@pytest.mark.django_db
def test_read_csv_takes_the_guard_off_only_where_it_was_added():
    text = "sku,name\nA,'=1+1\nB,''=2\nC,O'Brien\nD,'quoted'\n"
    table = read_csv(text, columns=["sku", "name"])
    assert [r[1] for r in table.rows] == ["=1+1", "'=2", "O'Brien", "'quoted'"]


@pytest.mark.django_db
def test_admin_export_button_guards_and_admin_import_round_trips():
    make_product("SKU-A", name="@SUM(1+1)")
    dataset = ProductResource().export()
    text = GuardedCsvFormat().export_data(dataset)
    assert cells(text)[0]["name"] == "'@SUM(1+1)"
    reread = CsvFormat().create_dataset(text.encode())
    assert reread.dict[0]["name"] == "@SUM(1+1)"


@pytest.mark.django_db
def test_stock_download_guards_a_planted_bin_code(manager_client):
    from inventory.services import stock_receive

    product, warehouse = make_product("SKU-A"), make_warehouse("WH1")
    stock_receive(product=product, warehouse=warehouse, quantity=4)
    product.stock_levels.update(bin="=1+1")
    response = manager_client.get("/imports/export/stock.csv")
    row = cells(b"".join(response.streaming_content).decode())[0]
    assert (row["bin"], row["on_hand"]) == ("'=1+1", "4")


@pytest.mark.django_db
def test_import_error_report_guards_the_offending_values(manager_client):
    job = ImportJob.objects.create(
        kind="products",
        filename="x.csv",
        status="failed",
        errors=[{"row": 2, "column": "price", "value": "=1+1", "message": "is not a number"}],
    )
    response = manager_client.get(f"/imports/{job.pk}/errors.csv")
    assert response.status_code == 200
    assert cells(response.content.decode()) == [
        {"row": "2", "column": "price", "value": "'=1+1", "message": "is not a number"}
    ]


@pytest.mark.django_db
def test_replenishment_export_guards_product_names(manager_client):
    product = make_product("SKU-A", name='=HYPERLINK("http://x","y")')
    warehouse = make_warehouse("WH1")
    from inventory.services import stock_receive

    stock_receive(product=product, warehouse=warehouse, quantity=1)
    response = manager_client.get("/replenishment/export.csv")
    assert response.status_code == 200
    rows = cells(response.content.decode())
    assert rows and rows[0]["name"] == '\'=HYPERLINK("http://x","y")'
