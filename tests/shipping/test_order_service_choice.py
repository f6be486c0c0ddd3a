"""The service chosen in an order edit is the one booked, instead of rate shopping's."""

import pytest

from fulfillment.services import order_change_shipping, shipment_pack
from fulfillment.services.booking import shipment_book
from fulfillment.services.shipping import shipment_choose_rate
from tests.shipping.conftest import ADDRESS_SP

pytestmark = pytest.mark.django_db


def test_service_set_by_an_edit_is_booked(carriers, packer):
    shipment = packer.shipment(grams=400, address=ADDRESS_SP, late_days=0, pack=False)
    assert shipment_choose_rate(shipment=shipment).code == "correios/pac"  # the cheapest

    order_change_shipping(order=shipment.order, service="correios/sedex", actor="ana")
    shipment.refresh_from_db()
    shipment_pack(shipment=shipment)
    shipment, booked = shipment_book(shipment=shipment)

    assert booked
    assert (shipment.carrier, shipment.service) == ("correios", "sedex")
    assert shipment.tracking_number
