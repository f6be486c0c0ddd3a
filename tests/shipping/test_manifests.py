"""End of day and boxes on the pack pages: the manifest per carrier and point (a PDF
whose barcodes are the parcels' tracking numbers), the pack station's list of what is
not yet manifested, and a shipment packed in two boxes."""

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.exceptions import Conflict
from fulfillment.models import Manifest, Shipment
from fulfillment.services.booking import shipment_add_parcel, shipment_book_and_ship
from fulfillment.services.manifests import manifest_create
from tests.shipping.conftest import barcodes, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(client):
    user = User.objects.create_user("floor", password="pw-123456")
    user.groups.add(Group.objects.get(name="warehouse"))
    client.force_login(user)
    return client


def shipped(packer, service):
    shipment = packer.shipment()
    shipment_book_and_ship(shipment=shipment, service_code=service)
    shipment.refresh_from_db()
    return shipment


def test_a_manifest_takes_the_days_parcels_of_one_carrier_at_one_point(carriers, packer, warehouse):
    first, second = shipped(packer, "correios/pac"), shipped(packer, "correios/sedex")
    other = shipped(packer, "jadlog/package")
    manifest = manifest_create(carrier="correios", warehouse=warehouse, actor="floor")
    assert manifest.number.startswith("MF-")
    assert set(manifest.shipments.values_list("number", flat=True)) == {first.number, second.number}
    other.refresh_from_db()
    assert other.manifest is None
    assert "hand the parcels to the driver" in manifest.pickup_note
    with pytest.raises(Conflict, match="Nothing handed over to correios"):
        manifest_create(carrier="correios", warehouse=warehouse)

    from fulfillment.documents import render_manifest_pdf

    pdf = render_manifest_pdf(manifest)
    text = pdf_text(pdf)
    assert manifest.number in text and first.number in text and second.number in text
    assert {first.tracking_number, second.tracking_number, manifest.number} <= set(barcodes(pdf))


def test_the_pack_station_lists_what_is_not_manifested_and_closes_the_day(
    floor, carriers, packer, warehouse
):
    shipment = shipped(packer, "correios/pac")
    page = floor.get("/floor/pack/", {"warehouse": warehouse.code}).content.decode()
    assert "not yet on a manifest" in page and shipment.number in page
    answer = floor.post("/floor/manifests/", {"warehouse": warehouse.code, "carrier": "correios"})
    manifest = Manifest.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/fulfillment/manifests/{manifest.number}/manifest.pdf"
    pdf = floor.get(answer["Location"])
    assert pdf["Content-Type"] == "application/pdf" and shipment.tracking_number in pdf_text(
        pdf.content
    )
    page = floor.get("/floor/pack/", {"warehouse": warehouse.code}).content.decode()
    assert "not yet on a manifest" not in page
    again = floor.post("/floor/manifests/", {"warehouse": warehouse.code, "carrier": "correios"})
    assert again.status_code == 302 and Manifest.objects.count() == 1


def test_an_easyparcel_manifest_says_the_collection_is_booked(easyparcel, packer, warehouse):
    from tests.shipping.test_easyparcel import measured

    shipment = measured(packer.shipment())
    shipment_book_and_ship(shipment=shipment, service_code="easyparcel/EP-CS0NV")
    manifest = manifest_create(carrier="easyparcel", warehouse=warehouse)
    assert "collection with each order" in manifest.pickup_note


def test_the_packer_adds_a_box_and_two_labels_are_booked(floor, carriers, packer):
    from fulfillment.services import pick_list_complete, pick_list_create

    shipment = packer.shipment(pack=False, grams=300)
    # a warehouse packs only what was picked
    pick_list_complete(
        pick_list=pick_list_create(warehouse=shipment.warehouse, shipments=[shipment])
    )
    shipment.refresh_from_db()
    base = f"/floor/pack/{shipment.number}"
    for code in (f.order_line.product.barcode for f in shipment.lines.all() for _ in range(2)):
        floor.post(f"{base}/scan/", {"code": code})
    page = floor.get(f"{base}/").content.decode()
    assert "Add a box" in page
    floor.post(f"{base}/parcels/", {"weight_grams": "400"})
    floor.post(f"{base}/parcels/", {"weight_grams": "0.5kg", "length_cm": "20"})
    page = floor.get(f"{base}/").content.decode()
    assert "2 boxes · 900 g" in page
    answer = floor.post(f"{base}/ship/", {"weight_grams": "900", "service": "correios/pac"})
    assert answer.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED and shipment.weight_grams == 900
    boxes = list(shipment.parcels.order_by("sequence"))
    assert [b.weight_grams for b in boxes] == [400, 500]
    assert boxes[0].tracking_number == shipment.tracking_number != boxes[1].tracking_number
    label = floor.get(f"/fulfillment/shipments/{shipment.number}/label.pdf").content
    assert pdf_pages(label) == 2
    assert {b.tracking_number for b in boxes} <= set(barcodes(label, 1) + barcodes(label, 2))


def test_a_box_cannot_be_added_once_labelled(carriers, packer):
    shipment = packer.shipment()
    shipment_book_and_ship(shipment=shipment, service_code="correios/pac")
    with pytest.raises(Exception, match="cannot add a parcel"):
        shipment_add_parcel(shipment=shipment, weight_grams=100)
