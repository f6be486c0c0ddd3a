"""The customer tracking page: public data only, by unguessable token; 404 otherwise."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.carriers.base import TrackingEvent as Event
from fulfillment.services.booking import shipment_book_and_ship
from fulfillment.services.tracking import shipment_record_tracking
from orders.services import order_add_note
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_tracking_page_shows_the_order_its_parcels_and_public_timeline(client, carriers, packer):
    shipment = packer.shipment(grams=400, units=2)
    shipment_book_and_ship(shipment=shipment)
    shipment.refresh_from_db()
    order = shipment.order
    shipment_record_tracking(
        shipment=shipment,
        events=[Event("out_for_delivery", timezone.now() - timedelta(hours=1), "With driver")],
    )
    order_add_note(order=order, message="Customer is VIP, check fraud score", public=False)
    order_add_note(order=order, message="Gift wrapping added, thank you!", public=True)

    r = client.get(f"/track/{order.tracking_token}/")
    assert r.status_code == 200
    html = r.content.decode()
    for shown in (
        order.number,
        "Correios",
        "PAC",
        shipment.tracking_number,
        f"https://correios.example/track/{shipment.tracking_number}",
        shipment.estimated_delivery.strftime("%d %B %Y").lstrip("0"),
        "Out for delivery: With driver",
        "Order placed",
        "Gift wrapping added, thank you!",
    ):
        assert shown in html, shown
    for hidden in (
        "VIP",  # internal note
        "ana@example.com",  # the customer's e-mail
        "Rua A 1",  # the address
        str(order.total),  # prices
        str(shipment.shipping_cost),
        "SP-01",  # the warehouse
        "Rate shopping",
    ):
        assert hidden not in html, hidden
    assert r["Referrer-Policy"] == "no-referrer"
    assert "noindex" in r["X-Robots-Tag"]


def test_a_cancelled_order_does_not_show_its_reason(client, packer):
    shipment = packer.shipment(pack=False)
    from fulfillment.services import order_cancel_and_release

    order_cancel_and_release(order=shipment.order, reason="Suspected fraud, chargeback risk")
    html = client.get(f"/track/{shipment.order.tracking_token}/").content.decode()
    assert "Order cancelled" in html and "fraud" not in html


def test_a_wrong_token_is_404_and_never_shows_another_order(client, packer):
    shipment = packer.shipment(pack=False)
    token = shipment.order.tracking_token
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # never the token itself
    assert client.get(f"/track/{wrong}/").status_code == 404
    assert client.get("/track/a/").status_code == 404
    other = f.place([(f.make_product(), 1)], external_id="other")
    html = client.get(f"/track/{other.tracking_token}/").content.decode()
    assert shipment.order.number not in html and other.number in html


def test_the_page_needs_no_login_and_does_not_show_staff_navigation(client, packer):
    shipment = packer.shipment(pack=False)
    r = client.get(f"/track/{shipment.order.tracking_token}/")
    assert r.status_code == 200 and "Log out" not in r.content.decode()
