"""Rate tables as CSV (admin import/export): keyed by carrier, service, country, region
and weight band; a bad row rejects the file."""

import pytest
import tablib

from fulfillment.models import ShippingRate
from fulfillment.resources import RATE_COLUMNS, ShippingRateResource

pytestmark = pytest.mark.django_db


def csv_dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text.strip() + "\n", format="csv")


def test_export_writes_the_documented_columns(carriers):
    exported = ShippingRateResource().export()
    assert tuple(exported.headers) == RATE_COLUMNS
    first = dict(zip(exported.headers, exported[0], strict=True))
    assert first == {
        "carrier": "correios",
        "service": "pac",
        "country": "BR",
        "region": "",
        "min_weight_grams": "0",
        "max_weight_grams": "1000",
        "price": "20.00",
        "currency": "BRL",
        "transit_days": "7",
    }


def test_import_updates_known_bands_and_adds_new_ones(carriers):
    before = ShippingRate.objects.count()
    data = csv_dataset(
        """
carrier,service,country,region,min_weight_grams,max_weight_grams,price,currency,transit_days
correios,pac,BR,SP,0,1000,16.50,BRL,2
correios,sedex,br,RJ,0,1000,29.90,brl,2
"""
    )
    result = ShippingRateResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert ShippingRate.objects.count() == before + 1
    pac = ShippingRate.objects.get(service__code="pac", region="SP", max_weight_grams=1000)
    assert (str(pac.price), pac.transit_days) == ("16.50", 2)
    rj = ShippingRate.objects.get(service__code="sedex", region="RJ")
    assert (rj.country, rj.currency, str(rj.price)) == ("BR", "BRL", "29.90")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("dhl,express,BR,,0,1000,10,BRL,1", "no service dhl/express"),
        ("correios,pac,BR,,1000,500,10,BRL,1", "shippingrate_weight_band"),
        ("correios,pac,BR,,0,500,-1,BRL,1", "shippingrate_price_gte_0"),
    ],
)
def test_a_bad_row_rejects_the_whole_file(carriers, row, message):
    before = list(ShippingRate.objects.values_list("pk", "price"))
    data = csv_dataset(",".join(RATE_COLUMNS) + "\ncorreios,pac,BR,SP,0,1000,99.00,BRL,1\n" + row)
    result = ShippingRateResource().import_data(data, dry_run=False, use_transactions=True)
    assert result.has_errors() or result.has_validation_errors()
    errors = [str(e.error) for row in result.error_rows for e in row.errors] + [
        str(inv.error) for inv in result.invalid_rows
    ]
    assert any(message in e for e in errors), errors
    assert list(ShippingRate.objects.values_list("pk", "price")) == before


def test_admin_offers_the_import_and_export_buttons(admin_client, carriers):
    page = admin_client.get("/admin/fulfillment/shippingrate/").content.decode()
    assert "/admin/fulfillment/shippingrate/import/" in page
    assert "/admin/fulfillment/shippingrate/export/" in page
