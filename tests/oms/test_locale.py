"""Locale: staff pages and PDFs in the browser's language (English or Brazilian
Portuguese), money as that language writes it, one date format per language."""

import subprocess
from decimal import Decimal

import pytest
from django.utils import translation

from oms.templatetags.oms_format import format_money
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9"}


@pytest.fixture
def manager_client(client):
    client.force_login(make_user("maria", "manager", is_staff=True))
    return client


@pytest.fixture
def order():
    product = f.make_product("MUG", price=Decimal("100.90"))
    placed = f.place([(product, 3, Decimal("100.90"))], currency="BRL")
    return placed


def test_money_follows_the_language():
    with translation.override("pt-br"):
        assert format_money(Decimal("302.70"), "BRL") == "R$\u00a0302,70"
        assert format_money(Decimal("1302.7"), "BRL") == "R$\u00a01.302,70"
    with translation.override("en"):
        assert format_money(Decimal("1302.7"), "BRL") == "R$\u00a01,302.70"


def test_money_on_pages_keeps_the_currency_own_decimals():
    with translation.override("en"):
        assert format_money(Decimal("1.235"), "KWD") == "KD\u00a01.235"
        assert format_money(Decimal("1500"), "JPY") == "¥\u00a01,500"
    with translation.override("pt-br"):
        assert format_money(Decimal("1.235"), "KWD") == "KD\u00a01,235"


def test_order_page_in_portuguese_for_a_portuguese_browser(manager_client, order):
    html = manager_client.get(f"/orders/{order.number}/", **PT).content.decode()
    assert '<html lang="pt-br">' in html
    assert ">Frete<" in html and ">Impostos<" in html and ">Pedidos</a>" in html
    assert "R$\u00a0302,70" in html  # 3 × 100,90
    assert order.placed_at.strftime("%d/%m/%Y") in html  # one date format: dd/mm/yyyy
    english = manager_client.get(f"/orders/{order.number}/").content.decode()
    assert ">Shipping<" in english and "R$\u00a0302.70" in english
    assert order.placed_at.strftime("%d %b %Y") in english


def test_admin_uses_the_same_date_format(manager_client, order):
    html = manager_client.get("/admin/orders/order/", **PT).content.decode()
    assert order.placed_at.strftime("%d/%m/%Y") in html


def test_packing_slip_pdf_in_the_browsers_language(manager_client, order, tmp_path):
    from fulfillment.services import order_confirm_and_allocate

    f.receive(order.lines.get().product, f.make_warehouse("SP-01"), 10)
    order_confirm_and_allocate(order=order)
    shipment = order.shipments.get()
    pdf = manager_client.get(f"/fulfillment/shipments/{shipment.number}/packing-slip.pdf", **PT)
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Romaneio" in text and "entregar a" in text.lower()
    assert shipment.order.placed_at.strftime("%d/%m/%Y") in text


def test_the_tracking_page_speaks_portuguese_too(client, order):
    html = client.get(f"/track/{order.tracking_token}/", **PT).content.decode()
    assert f"Pedido {order.number}" in html and ">Histórico<" in html


def test_import_report_in_portuguese_with_the_same_date_format(manager_client):
    from kernel.models import ImportJob

    job = ImportJob.objects.create(
        kind=ImportJob.Kind.PRODUCTS,
        file="imports/p.csv",
        filename="p.csv",
        status=ImportJob.Status.REJECTED,
        message="1 row with errors",
        errors=[{"row": 2, "column": "price", "value": "19,90", "message": "bad price"}],
    )
    html = manager_client.get(f"/imports/{job.pk}/", **PT).content.decode()
    assert "O arquivo foi recusado" in html and ">Coluna<" in html
    assert job.created_at.strftime("%d/%m/%Y") in html
    listing = manager_client.get("/imports/", **PT).content.decode()
    assert "Últimas importações" in listing and job.created_at.strftime("%d/%m/%Y") in listing
    report = manager_client.get(f"/imports/{job.pk}/errors.csv", **PT).content.decode()
    assert report.splitlines()[1].startswith('2,price,"19,90",')  # a file keeps its columns


def test_csv_export_dates_stay_iso_8601_whatever_the_language(manager_client, order):
    """A CSV file is a contract with other programs (DESIGN.md): ISO 8601 in any language,
    the same format the imports read."""
    from django.utils import timezone

    response = manager_client.get("/imports/export/orders.csv", **PT)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert timezone.localtime(order.placed_at).isoformat() in text
    assert order.placed_at.strftime("%d/%m/%Y") not in text


def test_pick_queue_and_its_messages_in_portuguese(manager_client, order):
    from fulfillment.services import order_confirm_and_allocate

    f.receive(order.lines.get().product, f.make_warehouse("SP-01"), 10)
    order_confirm_and_allocate(order=order)
    html = manager_client.get("/floor/pick/", **PT).content.decode()
    assert "Fila de separação" in html and "Prontas para separar: 1 remessa" in html
    response = manager_client.post(
        "/floor/pick/", {"warehouse": "SP-01", "code": "SO-999999", "action": "oldest"}, **PT
    )
    flash = manager_client.get(response["Location"], **PT).content.decode()
    assert "Nenhum pedido ou remessa SO-999999" in flash
