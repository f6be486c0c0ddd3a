"""Rate shopping: the cheapest service that arrives by the promised date, else the
fastest; the weighed package's band; staff override; no rate leaves it packed."""

import pytest

from fulfillment.carriers.table_rate import s10_valid
from fulfillment.models import CarrierService, Shipment
from fulfillment.services.booking import shipment_book_and_ship
from fulfillment.services.shipping import (
    NoRate,
    add_business_days,
    shipment_choose_rate,
    shipment_rate_quotes,
)
from inventory.models import StockMovement
from tests import factories as f
from tests.shipping.conftest import ADDRESS_SP, ship_date

pytestmark = pytest.mark.django_db

ADDRESS_RJ = {**ADDRESS_SP, "city": "Rio de Janeiro", "region": "Rio de Janeiro"}
ADDRESS_US = {**ADDRESS_SP, "city": "Boston", "region": "MA", "country": "US"}


@pytest.mark.parametrize(
    ("address", "grams", "late_days", "expected"),
    [
        # São Paulo, 800 g, packed on time: the cheapest (PAC, 3 days) meets the promise.
        (ADDRESS_SP, 400, 0, "correios/pac"),
        # One business day late: only 2 days left; Jadlog (2 days) beats SEDEX on price.
        (ADDRESS_SP, 400, 1, "jadlog/package"),
        # Two days late: only SEDEX (1 day) still arrives in time.
        (ADDRESS_SP, 400, 2, "correios/sedex"),
        # Five days late: nothing arrives in time any more, so the fastest.
        (ADDRESS_SP, 400, 5, "correios/sedex"),
        # Rio ("Rio de Janeiro" spelled out), 2.5 kg: country-wide rows, PAC on time.
        (ADDRESS_RJ, 1250, 0, "correios/pac"),
        # Rio, 2.5 kg, 3 days late: 4 days left; PAC (7) misses, Jadlog (4) makes it.
        (ADDRESS_RJ, 1250, 3, "jadlog/package"),
        # Rio, 2.5 kg, 4 days late: only SEDEX (3 days) arrives in time.
        (ADDRESS_RJ, 1250, 4, "correios/sedex"),
        # 10 kg to São Paulo: only Jadlog's heavy band takes it.
        (ADDRESS_SP, 5000, 0, "jadlog/package"),
    ],
)
def test_rate_shopping_picks_the_cheapest_service_that_meets_the_promise(
    carriers, packer, address, grams, late_days, expected
):
    shipment = packer.shipment(grams=grams, address=address, late_days=late_days)
    rate = shipment_choose_rate(shipment=shipment)
    assert rate.code == expected
    assert rate.estimated_delivery == add_business_days(ship_date(), rate.transit_days)
    assert Shipment.objects.get(pk=shipment.pk).status == Shipment.Status.PACKED


def test_the_weighed_package_decides_the_weight_band(carriers, packer):
    # Products say 2 x 300 g; the scale says 2.4 kg: the 1-5 kg band applies.
    shipment = packer.shipment(grams=300, weighed=2400)
    quotes = {q.code: str(q.price) for q in shipment_rate_quotes(shipment=shipment)}
    assert quotes == {"correios/pac": "21.00", "correios/sedex": "33.00", "jadlog/package": "30.00"}
    assert shipment_choose_rate(shipment=shipment).code == "correios/pac"


def test_band_boundaries_belong_to_the_lower_band(carriers, packer):
    shipment = packer.shipment(grams=500, units=2)  # exactly 1,000 g
    pac = next(q for q in shipment_rate_quotes(shipment=shipment) if q.service == "pac")
    assert str(pac.price) == "15.00"


def test_a_channel_with_a_fixed_delivery_promise(carriers, packer, settings):
    settings.OMS_DELIVERY_PROMISE_DAYS = {"web": 1}
    shipment = packer.shipment()
    assert shipment_choose_rate(shipment=shipment).code == "correios/sedex"


def test_staff_can_override_the_service(carriers, packer):
    shipment = packer.shipment()
    assert shipment_choose_rate(shipment=shipment, service_code="sedex").code == "correios/sedex"
    assert (
        shipment_choose_rate(shipment=shipment, service_code="jadlog/package").code
        == "jadlog/package"
    )
    with pytest.raises(NoRate, match="offered: correios/pac"):
        shipment_choose_rate(shipment=shipment, service_code="dhl/express")


def test_an_inactive_service_is_not_offered(carriers, packer):
    CarrierService.objects.filter(code="pac").update(active=False)
    shipment = packer.shipment()
    assert "correios/pac" not in {q.code for q in shipment_rate_quotes(shipment=shipment)}
    assert shipment_choose_rate(shipment=shipment).code == "jadlog/package"


def test_no_rate_is_a_clear_error_and_the_shipment_stays_packed(carriers, packer):
    shipment = packer.shipment(address=ADDRESS_US)
    with pytest.raises(NoRate, match="No rate for .* 800 g parcel to MA, US") as caught:
        shipment_book_and_ship(shipment=shipment)
    assert caught.value.code == "no_rate"
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED
    assert shipment.tracking_number == "" and not shipment.label_pdf
    assert not StockMovement.objects.filter(kind="ship").exists()


def test_book_and_ship_books_labels_ships_and_records_the_quotes(carriers, packer):
    shipment = packer.shipment(late_days=1)
    shipment_book_and_ship(shipment=shipment, actor="floor")
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED
    assert (shipment.carrier, shipment.service) == ("jadlog", "package")
    assert s10_valid(shipment.tracking_number) and shipment.tracking_number.startswith("JA")
    assert str(shipment.shipping_cost) == "17.00"
    assert shipment.estimated_delivery == add_business_days(ship_date(), 2)
    assert shipment.label_pdf.name.endswith(".pdf")
    with shipment.label_pdf.open("rb") as label:
        assert label.read(5) == b"%PDF-"
    event = f.last_event(shipment.order, "note")
    shopping = event.data["rate_shopping"]
    assert shopping["chosen"] == "jadlog/package"
    assert [q["code"] for q in shopping["quotes"]] == [
        "correios/pac",
        "jadlog/package",
        "correios/sedex",
    ]
    assert "cheapest that arrives by" in event.message
    assert f.event_kinds(shipment.order)[-3:] == ["note", "shipped", "shipped"]
    f.assert_ledger_clean()


def test_book_and_ship_refuses_a_shipment_not_packed(carriers, packer):
    from kernel.exceptions import InvalidTransition

    shipment = packer.shipment(pack=False)
    with pytest.raises(InvalidTransition, match="pack it first"):
        shipment_book_and_ship(shipment=shipment)
