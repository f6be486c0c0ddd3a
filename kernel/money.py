"""Money: each currency's own minor units (ISO 4217), rounding, display, conversion.

Amounts are ``Decimal`` with a currency code. The database keeps three decimal places
(the most any currency in use has: KWD, BHD, OMR, TND...); each currency's amounts are
quantized to its own exponent (JPY 0, BRL 2, KWD 3) by ``quantize_money``.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from django.conf import settings

CENT = Decimal("0.01")
DEFAULT_EXPONENT = 2
# The currencies whose minor unit is not 1/100 (ISO 4217, the list maintained by SIX).
CURRENCY_EXPONENTS: dict[str, int] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # thousandths
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # ten-thousandths (units of account)
    "CLF": 4,
    "UYW": 4,
}
# The database columns' decimal places: enough for every currency we accept.
MONEY_DECIMAL_PLACES = 3
MONEY_MAX_DIGITS = 13
MAX_MONEY = Decimal("9999999999.99")


class MoneyPlacesError(ValueError):
    """An amount with more decimals than its currency has."""


def currency_exponent(currency: str | None) -> int:
    """The number of decimals of ``currency`` (2 for an unknown or missing code)."""
    exponent = CURRENCY_EXPONENTS.get((currency or "").upper(), DEFAULT_EXPONENT)
    return min(exponent, MONEY_DECIMAL_PLACES)


@cache  # the exponents are constants; the CSV import asks once per money cell
def _unit(currency: str | None) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def quantize_money(value: Decimal | int | str, currency: str | None = None) -> Decimal:
    """Round a money amount to the currency's minor unit, half up (the way invoices
    round). Without a currency: to cents."""
    return Decimal(value).quantize(_unit(currency), rounding=ROUND_HALF_UP)


def money_exact(value: Decimal | int | str, currency: str | None) -> Decimal:
    """``value`` in ``currency``'s minor units, refusing (MoneyPlacesError) an amount
    that rounding would change: "1.235" KWD is fine, "1.235" EUR is not ("1.230" EUR
    is: trailing zeros change nothing)."""
    amount = Decimal(value)
    rounded = quantize_money(amount, currency)
    if rounded != amount:
        places = currency_exponent(currency)
        raise MoneyPlacesError(
            f"{currency or 'this currency'} amounts have {places} decimal place(s) at most"
            if places
            else f"{currency} amounts have no decimal places"
        )
    return rounded


def format_money(value: Decimal | int | str | None, currency: str | None) -> str | None:
    """The amount as text with the currency's own decimals ("1.235" KWD, "1500" JPY)."""
    if value is None:
        return None
    return str(quantize_money(value, currency))


def split_money(total: Decimal, weights: list[Decimal], currency: str | None) -> list[Decimal]:
    """``total`` shared out in proportion to ``weights``, in whole minor units, the
    shares summing exactly to ``total`` (largest remainder goes first)."""
    unit = _unit(currency)
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    units = int(total / unit)
    exact = [Decimal(units) * w / weight_sum for w in weights]
    shares = [int(e) for e in exact]
    left = units - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [(Decimal(s) * unit).quantize(unit) for s in shares]


def exchange_rates() -> dict[tuple[str, str], Decimal]:
    """``OMS_EXCHANGE_RATES`` as {(from, to): rate}: 1 unit of ``from`` is ``rate`` of
    ``to``; the reverse direction is implied."""
    raw = getattr(settings, "OMS_EXCHANGE_RATES", {}) or {}
    rates: dict[tuple[str, str], Decimal] = {}
    for pair, rate in raw.items():
        source, _, target = str(pair).upper().partition("/")
        try:
            value = Decimal(str(rate))
        except (InvalidOperation, ValueError):
            continue
        if len(source) == 3 and len(target) == 3 and value.is_finite() and value > 0:
            rates[(source, target)] = value
    return rates


def convert(amount: Decimal, source: str, target: str) -> Decimal | None:
    """``amount`` of ``source`` in ``target`` by the configured rate table (unrounded),
    or None when no rate says how."""
    source, target = (source or "").upper(), (target or "").upper()
    if source == target:
        return Decimal(amount)
    rates = exchange_rates()
    if (source, target) in rates:
        return Decimal(amount) * rates[(source, target)]
    if (target, source) in rates:
        return Decimal(amount) / rates[(target, source)]
    return None
