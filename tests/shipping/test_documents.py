"""PDF documents: valid PDFs with the expected text, scannable barcodes, waves as one
PDF, pick lists summed per product in bin order."""

import pytest

from fulfillment.carriers.table_rate import TableRateCarrier, s10_valid
from fulfillment.documents import (
    pick_list_lines,
    render_label_pdf,
    render_packing_slip_pdf,
    render_pick_list_pdf,
)
from fulfillment.models import Carrier, PickList, Shipment
from fulfillment.services import pick_list_create
from fulfillment.services.booking import shipment_book_and_ship
from fulfillment.services.shipping import shipment_choose_rate
from inventory.models import StockLevel
from kernel.exceptions import Conflict
from returns.documents import render_return_slip_pdf
from returns.services import return_approve, return_request
from tests import factories as f
from tests.shipping.conftest import barcodes, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


def set_bin(product, warehouse, code):
    StockLevel.objects.filter(product=product, warehouse=warehouse).update(bin=code)


def test_label_shows_addresses_service_weight_and_a_scannable_tracking_barcode(carriers, packer):
    shipment = packer.shipment(weighed=1234)
    shipment.length_cm, shipment.width_cm, shipment.height_cm = 30, 20, 10
    rate = shipment_choose_rate(shipment=shipment)
    booking = TableRateCarrier(Carrier.objects.get(code=rate.carrier)).book(shipment, rate)
    assert s10_valid(booking.tracking_number)
    text = pdf_text(booking.label_pdf)
    for expected in (
        "Correios",
        "PAC",
        "Ana Lima",
        "Rua A 1",
        "13023-000 Campinas SP",
        "São Paulo DC",
        "1.234 kg",
        "30 x 20 x 10",
        booking.tracking_number,
        shipment.number,
        shipment.order.number,
    ):
        assert expected in text, expected
    assert pdf_pages(booking.label_pdf) == 1
    assert barcodes(booking.label_pdf) == [booking.tracking_number]


def test_label_of_a_booked_shipment_is_the_stored_one_and_none_before(carriers, packer):
    shipment = packer.shipment()
    with pytest.raises(Conflict, match="no tracking number yet"):
        render_label_pdf(shipment)
    shipment_book_and_ship(shipment=shipment)
    shipment.refresh_from_db()
    with shipment.label_pdf.open("rb") as stored:
        assert render_label_pdf(shipment) == stored.read()


def test_label_for_a_tracking_number_typed_in_by_hand(packer):
    from fulfillment.services import shipment_ship

    shipment = packer.shipment()
    shipment_ship(shipment=shipment, carrier="loggi", service="same-day", tracking_number="LG-42")
    shipment.refresh_from_db()
    pdf = render_label_pdf(shipment)
    assert "loggi" in pdf_text(pdf) and barcodes(pdf) == ["LG-42"]


def test_packing_slips_of_several_shipments_are_one_pdf_with_lines_bins_and_returns(packer):
    shirt = f.make_product("SHIRT-BLUE-M", name="Blue shirt M")
    mug = f.make_product("MUG-01", name="Coffee mug")
    first = packer.shipment(products=[(shirt, 2), (mug, 1)], pack=False)
    second = packer.shipment(products=[(mug, 3)], pack=False)
    set_bin(shirt, packer.warehouse, "B-02-01")
    set_bin(mug, packer.warehouse, "A-01-03")
    pdf = render_packing_slip_pdf([first, second])
    assert pdf_pages(pdf) == 2
    text = pdf_text(pdf)
    page1, page2 = text.split("\f")[:2]
    assert first.number in page1 and first.order.number in page1
    # bin order: the mug (A-01-03) before the shirt (B-02-01)
    assert page1.index("A-01-03") < page1.index("B-02-01")
    assert "SHIRT-BLUE-M" in page1 and "Blue shirt M" in page1
    assert "Units" in page1 and "Returns" in page1 and "30 days" in page1
    assert second.number in page2 and "MUG-01" in page2
    assert "19.90" not in text and "10.00" not in text  # no prices on slips


def test_a_wave_of_slips_renders_in_parallel_as_one_ordered_pdf(packer, settings):
    settings.OMS_DOCUMENT_PROCESSES = 2
    settings.OMS_DOCUMENT_PARALLEL_MIN_PAGES = 4
    product = f.make_product("WAVE-SKU")
    shipments = [packer.shipment(products=[(product, 1)], pack=False) for _ in range(6)]
    pdf = render_packing_slip_pdf(Shipment.objects.filter(pk__in=[s.pk for s in shipments]))
    pages = pdf_text(pdf).split("\f")
    assert pdf_pages(pdf) == 6
    for page, shipment in zip(pages, shipments, strict=False):
        assert shipment.number in page


def test_pick_list_sums_lines_per_product_in_bin_order(packer):
    a = f.make_product("SKU-A", name="Alpha")
    b = f.make_product("SKU-B", name="Bravo")
    c = f.make_product("SKU-C", name="Charlie")
    s1 = packer.shipment(products=[(a, 2), (b, 1)], pack=False)
    s2 = packer.shipment(products=[(a, 3), (c, 4)], pack=False)
    set_bin(a, packer.warehouse, "C-01-01")
    set_bin(b, packer.warehouse, "A-02-01")
    StockLevel.objects.filter(product=c).update(bin="")
    pick_list = pick_list_create(warehouse=packer.warehouse, shipments=[s1, s2])
    lines = pick_list_lines(pick_list)
    assert [(ln.bin, ln.sku, ln.quantity) for ln in lines] == [
        ("A-02-01", "SKU-B", 1),
        ("C-01-01", "SKU-A", 5),
        ("", "SKU-C", 4),  # no bin: last
    ]
    assert lines[1].shipments == [s1.number, s2.number]
    pdf = render_pick_list_pdf(pick_list)
    text = pdf_text(pdf)
    assert text.index("A-02-01") < text.index("C-01-01") < text.index("SKU-C")
    assert pick_list.number in text and "3 products" in text and "10 units" in text
    assert barcodes(pdf) == [pick_list.number]


def test_pick_list_leaves_out_cancelled_shipments(packer):
    from fulfillment.services import shipment_cancel

    a = f.make_product("SKU-A")
    s1 = packer.shipment(products=[(a, 2)], pack=False)
    s2 = packer.shipment(products=[(a, 3)], pack=False)
    pick_list = pick_list_create(warehouse=packer.warehouse, shipments=[s1, s2])
    shipment_cancel(shipment=s2, reason="customer")
    assert [ln.quantity for ln in pick_list_lines(PickList.objects.get(pk=pick_list.pk))] == [2]


def test_return_slip_has_the_rma_barcode_lines_and_where_to_send(carriers, packer):
    shipment = packer.shipment()
    shipment_book_and_ship(shipment=shipment)
    order = shipment.order
    line = order.lines.get()
    rma = return_request(
        order=order,
        lines=[{"sku": line.sku, "quantity": 1, "reason": "size_fit", "customer_comment": "Tight"}],
    )
    return_approve(return_request=rma)
    pdf = render_return_slip_pdf(rma)
    text = pdf_text(pdf)
    for expected in (rma.number, order.number, line.sku, "Size or fit", "Tight", "São Paulo DC"):
        assert expected in text, expected
    assert barcodes(pdf) == [rma.number]


def test_documents_tolerate_missing_bins_and_weights(packer):
    product = f.make_product("NO-WEIGHT", weight_grams=0)
    shipment = packer.shipment(products=[(product, 1)], pack=False)
    StockLevel.objects.filter(product=product).update(bin="")
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="T1", carrier="own")
    shipment.refresh_from_db()
    assert "NO-WEIGHT" in pdf_text(render_packing_slip_pdf([shipment]))
    assert "T1" in pdf_text(render_label_pdf(shipment))
