"""kernel.money: each currency's minor units, exact amounts, shares that add up."""

from decimal import Decimal

import pytest

from kernel.money import (
    MoneyPlacesError,
    convert,
    currency_exponent,
    format_money,
    money_exact,
    quantize_money,
    split_money,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("JPY", 0),
        ("BRL", 2),
        ("EUR", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("XYZ", 2),
    ],
)
def test_each_currency_has_its_iso_4217_exponent(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_quantize_rounds_half_up_to_the_currency_s_minor_unit():
    assert quantize_money("1.2345", "KWD") == Decimal("1.235")
    assert quantize_money("1499.5", "JPY") == Decimal("1500")
    assert quantize_money("0.125", "EUR") == Decimal("0.13")
    assert format_money(Decimal("1500.000"), "JPY") == "1500"
    assert format_money(Decimal("1.2"), "KWD") == "1.200"


def test_money_exact_refuses_what_rounding_would_change():
    assert money_exact("1.235", "KWD") == Decimal("1.235")
    assert money_exact("19.900", "EUR") == Decimal("19.90")  # trailing zeros change nothing
    with pytest.raises(MoneyPlacesError, match="EUR amounts have 2 decimal"):
        money_exact("1.235", "EUR")
    with pytest.raises(MoneyPlacesError, match="JPY amounts have no decimal places"):
        money_exact("1500.5", "JPY")


def test_split_money_shares_add_up_to_the_total_in_whole_minor_units():
    shares = split_money(Decimal("10.00"), [Decimal("39.80"), Decimal("9.90")], "USD")
    assert shares == [Decimal("8.01"), Decimal("1.99")]
    thirds = split_money(Decimal("100"), [Decimal(1)] * 3, "JPY")
    assert thirds == [Decimal(34), Decimal(33), Decimal(33)] and sum(thirds) == 100


def test_convert_uses_the_configured_rate_either_way_or_says_it_cannot(settings):
    settings.OMS_EXCHANGE_RATES = {"USD/EUR": "0.90"}
    assert convert(Decimal("10"), "USD", "EUR") == Decimal("9.00")
    assert convert(Decimal("9"), "EUR", "USD") == Decimal("10")
    assert convert(Decimal("10"), "BRL", "EUR") is None
    assert convert(Decimal("10"), "EUR", "EUR") == Decimal("10")
