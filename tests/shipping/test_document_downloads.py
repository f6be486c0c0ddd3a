"""Document downloads: the API's PDF endpoints, the staff URLs (roles) and the admin's
links and actions."""

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.models import Shipment
from fulfillment.services import pick_list_create
from fulfillment.services.booking import shipment_book_and_ship
from returns.services import return_request
from tests.shipping.conftest import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(carriers, packer):
    shipment = packer.shipment()
    shipment_book_and_ship(shipment=shipment)
    shipment.refresh_from_db()
    return shipment


def staff(client, group=None, username="floor"):
    user = User.objects.create_user(username, password="pw-123456")
    if group:
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


# --------------------------------------------------------------------------- API


def test_api_label_and_packing_slip_are_pdfs(warehouse_api, booked):
    base = f"/api/v1/shipments/{booked.number}"
    label = warehouse_api.get(f"{base}/label.pdf/")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    assert booked.tracking_number in pdf_text(label.content)
    slip = warehouse_api.get(f"{base}/packing-slip.pdf/", HTTP_ACCEPT="application/pdf")
    assert slip.status_code == 200 and booked.number in pdf_text(slip.content)


def test_api_label_before_booking_is_409_json_and_unknown_is_404(api, packer):
    shipment = packer.shipment()
    r = api.get(f"/api/v1/shipments/{shipment.number}/label.pdf/", HTTP_ACCEPT="application/pdf")
    assert r.status_code == 409 and "no tracking number" in r.json()["detail"]
    r = api.get("/api/v1/shipments/SH-NOPE/label.pdf/", HTTP_ACCEPT="application/pdf")
    assert r.status_code == 404 and r["Content-Type"] == "application/json"


def test_api_pick_list_documents_and_list(warehouse_api, packer, django_assert_max_num_queries):
    shipments = [packer.shipment(pack=False) for _ in range(3)]
    pick_list = pick_list_create(warehouse=packer.warehouse, shipments=shipments)
    with django_assert_max_num_queries(8):
        listed = warehouse_api.get("/api/v1/pick-lists/").json()
    assert listed["results"][0]["shipments"] == [s.number for s in shipments]
    base = f"/api/v1/pick-lists/{pick_list.number}"
    pdf = warehouse_api.get(f"{base}/pick-list.pdf/")
    assert pdf.status_code == 200 and pick_list.number in pdf_text(pdf.content)
    slips = warehouse_api.get(f"{base}/packing-slips.pdf/")
    assert slips.status_code == 200 and pdf_pages(slips.content) == 3


def test_api_return_slip(api, booked):
    line = booked.order.lines.get()
    rma = return_request(order=booked.order, lines=[{"sku": line.sku, "quantity": 1}])
    r = api.get(f"/api/v1/returns/{rma.number}/return-slip.pdf/")
    assert r.status_code == 200 and rma.number in pdf_text(r.content)


def test_api_documents_need_a_token(anon_api, booked):
    assert anon_api.get(f"/api/v1/shipments/{booked.number}/label.pdf/").status_code == 401


# --------------------------------------------------------------------------- staff URLs


def test_staff_urls_for_the_warehouse_role(client, booked, packer):
    staff(client, "warehouse")
    r = client.get(f"/fulfillment/shipments/{booked.number}/label.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    r = client.get(f"/fulfillment/shipments/{booked.number}/packing-slip.pdf")
    assert r.status_code == 200 and booked.number in pdf_text(r.content)
    pick_list = pick_list_create(
        warehouse=packer.warehouse, shipments=[packer.shipment(pack=False)]
    )
    for doc in ("pick-list.pdf", "packing-slips.pdf"):
        r = client.get(f"/fulfillment/pick-lists/{pick_list.number}/{doc}")
        assert r.status_code == 200 and r.content[:5] == b"%PDF-", doc
    line = booked.order.lines.get()
    rma = return_request(order=booked.order, lines=[{"sku": line.sku, "quantity": 1}])
    r = client.get(f"/returns/{rma.number}/return-slip.pdf")
    assert r.status_code == 200 and rma.number in pdf_text(r.content)
    assert client.get("/returns/RMA-NOPE/return-slip.pdf").status_code == 404


def test_staff_urls_refuse_anonymous_and_roleless_users(client, booked):
    url = f"/fulfillment/shipments/{booked.number}/label.pdf"
    r = client.get(url)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    staff(client, None, "nobody")
    assert client.get(url).status_code == 403


def test_staff_label_before_booking_is_409(client, packer):
    staff(client, "manager")
    shipment = packer.shipment()
    r = client.get(f"/fulfillment/shipments/{shipment.number}/label.pdf")
    assert r.status_code == 409 and b"no tracking number" in r.content


# --------------------------------------------------------------------------- admin


def test_admin_books_prints_and_links(admin_client, carriers, packer):
    shipments = [packer.shipment(), packer.shipment(address={"country": "US", "city": "X"})]
    r = admin_client.post(
        "/admin/fulfillment/shipment/",
        {"action": "book_and_ship_shipments", "_selected_action": [s.pk for s in shipments]},
        follow=True,
    )
    text = r.content.decode()
    assert f"Booked and shipped 1 shipment: {shipments[0].number}" in text
    assert f"{shipments[1].number}: No rate" in text
    statuses = dict(Shipment.objects.values_list("number", "status"))
    assert statuses == {shipments[0].number: "shipped", shipments[1].number: "packed"}

    r = admin_client.post(
        "/admin/fulfillment/shipment/",
        {"action": "print_packing_slips", "_selected_action": [s.pk for s in shipments]},
    )
    assert r["Content-Type"] == "application/pdf" and pdf_pages(r.content) == 2
    r = admin_client.post(
        "/admin/fulfillment/shipment/",
        {"action": "print_labels", "_selected_action": [s.pk for s in shipments]},
    )
    assert r["Content-Type"] == "application/pdf" and pdf_pages(r.content) == 1

    page = admin_client.get(f"/admin/fulfillment/shipment/{shipments[0].pk}/change/")
    html = page.content.decode()
    assert f"/fulfillment/shipments/{shipments[0].number}/label.pdf" in html
    assert f"/fulfillment/shipments/{shipments[0].number}/packing-slip.pdf" in html
