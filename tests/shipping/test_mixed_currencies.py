"""Prices in two currencies are never compared or summed: routing's cost strategy and
rate shopping work in the order's currency, converting by OMS_EXCHANGE_RATES or leaving
the other currency out and saying so."""

from decimal import Decimal

import pytest

from fulfillment.exceptions import FulfillmentError
from fulfillment.models import Carrier, CarrierService, ShippingRate
from fulfillment.routing import Rate, RoutingContext, rates_in_currency
from fulfillment.services import route_preview
from fulfillment.services.shipping import _shop, shipment_choose_rate
from orders.models import OrderEvent
from tests import factories as f
from tests.fulfillment.test_routing import route, split
from tests.shipping.conftest import ADDRESS_SP

pytestmark = pytest.mark.django_db


def jadlog_in_usd():
    """Jadlog quotes in USD: 17.00 USD would be the 'cheapest' number for 1 kg to SP."""
    ShippingRate.objects.filter(service__carrier__code="jadlog").update(currency="USD")


def test_rate_shopping_leaves_out_quotes_it_cannot_convert_and_says_so(carriers, packer):
    jadlog_in_usd()
    # one day late: in BRL Jadlog (17.00, 2 days) would beat SEDEX (25.00, 1 day)
    shipment = packer.shipment(grams=400, address=ADDRESS_SP, late_days=1)

    shopping = shipment_choose_rate(shipment=shipment)

    # SEDEX, not Jadlog's 17.00 USD: never compared with BRL
    assert shopping.code == "correios/sedex"

    reason = _shop(shipment, None).reason
    assert "quotes in USD left out: no exchange rate to BRL in OMS_EXCHANGE_RATES" in reason


def test_rate_shopping_compares_converted_prices(carriers, packer, settings):
    jadlog_in_usd()
    shipment = packer.shipment(grams=400, address=ADDRESS_SP, late_days=0)  # on time

    settings.OMS_EXCHANGE_RATES = {"USD/BRL": "5.00"}  # 17 USD = 85 BRL: dearer than PAC
    assert _shop(shipment, None).rate.code == "correios/pac"

    settings.OMS_EXCHANGE_RATES = {"BRL/USD": "4.00"}  # 1 BRL = 4 USD: 17 USD = 4.25 BRL
    shopping = _shop(shipment, None)
    assert shopping.rate.code == "jadlog/package"
    assert "(17.00 USD is 4.25 BRL by OMS_EXCHANGE_RATES)" in shopping.reason


def test_rate_shopping_refuses_when_no_quote_is_in_a_comparable_currency(carriers, packer):
    ShippingRate.objects.update(currency="USD")
    shipment = packer.shipment(grams=400, address=ADDRESS_SP, late_days=1)

    with pytest.raises(FulfillmentError, match="can be compared in BRL"):
        shipment_choose_rate(shipment=shipment)
    # a service chosen by staff needs no comparison
    assert shipment_choose_rate(shipment=shipment, service_code="correios/pac").currency == "USD"


@pytest.fixture
def two_point_rates():
    """Two carriers to Brazil: one prices in BRL, one in USD."""
    brl = CarrierService.objects.create(
        carrier=Carrier.objects.create(code="table", name="Table"), code="std", name="Std"
    )
    usd = CarrierService.objects.create(
        carrier=Carrier.objects.create(code="intl", name="Intl"), code="std", name="Std"
    )
    for service, price, currency in ((brl, "20.00", "BRL"), (usd, "3.00", "USD")):
        ShippingRate.objects.create(
            service=service,
            country="BR",
            min_weight_grams=0,
            max_weight_grams=5000,
            price=Decimal(price),
            currency=currency,
            transit_days=3,
        )


@pytest.fixture
def points():
    sp = f.make_warehouse("SP-01", priority=1, region="SP")
    rj = f.make_warehouse("RJ-02", priority=2, region="RJ")
    a, b = (f.make_product(sku, weight_grams=400) for sku in ("A", "B"))
    f.receive(a, rj, 5)
    f.receive(a, sp, 5)
    f.receive(b, sp, 5)
    return a, b


def test_cost_routing_never_sums_two_currencies_and_names_the_one_left_out(points, two_point_rates):
    a, b = points

    order = route([(a, 1), (b, 1)], strategy="cost", region="RJ")  # a BRL order

    assert split(order) == {"SP-01": [("A", 1), ("B", 1)]}
    event = order.events.filter(kind=OrderEvent.Kind.ALLOCATED).last()
    assert "Cheapest shipping to Rio de Janeiro, RJ, BR: 20.00 BRL" in event.message
    assert "rates in USD left out: no exchange rate to BRL" in event.message
    cost = route_preview(order, whole_order=True)["strategies"]["cost"]["estimated_cost"]
    assert cost["currency"] == "BRL"  # never "BRL/USD"
    assert {q["currency"] for q in cost["shipments"].values()} == {"BRL"}


def test_cost_routing_converts_by_the_rate_table(points, two_point_rates, settings):
    settings.OMS_EXCHANGE_RATES = {"USD/BRL": "5.00"}  # 3.00 USD = 15.00 BRL: cheaper
    a, b = points

    order = route([(a, 1), (b, 1)], strategy="cost", region="RJ")

    event = order.events.filter(kind=OrderEvent.Kind.ALLOCATED).last()
    assert "15.00 BRL for 1 parcel(s)" in event.message
    assert "prices in USD converted to BRL by OMS_EXCHANGE_RATES" in event.message
    cost = route_preview(order, whole_order=True)["strategies"]["cost"]["estimated_cost"]
    [quote] = cost["shipments"].values()
    assert (quote["price"], quote["converted_from"]) == ("15.00", "3.00 USD")


def test_cost_routing_with_only_foreign_rates_falls_back_and_says_why(points, two_point_rates):
    ShippingRate.objects.filter(currency="BRL").delete()
    a, b = points

    order = route([(a, 1), (b, 1)], strategy="cost", region="RJ")

    event = order.events.filter(kind=OrderEvent.Kind.ALLOCATED).last()
    assert "fell back to nearest" in event.message
    assert "rates in USD left out" in event.message
    assert event.data["fallback"] == "nearest"


def test_rates_in_currency_keeps_one_currency_only(settings):
    settings.OMS_EXCHANGE_RATES = {"EUR/BRL": "6.00"}
    rates = [
        Rate("x/a", "", 0, 10, Decimal("10.00"), "BRL", 1),
        Rate("x/b", "", 0, 10, Decimal("2.00"), "EUR", 1),
        Rate("x/c", "", 0, 10, Decimal("1.00"), "USD", 1),
    ]
    kept, refused = rates_in_currency(rates, "BRL")
    assert [(r.service, r.price, r.currency) for r in kept] == [
        ("x/a", Decimal("10.00"), "BRL"),
        ("x/b", Decimal("12.00"), "BRL"),
    ]
    assert refused == {"USD"}
    assert RoutingContext(currency="BRL").currency == "BRL"
