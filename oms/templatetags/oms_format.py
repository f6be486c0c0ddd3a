"""Money as people read it in the active language: ``{{ order.total|money:order.currency }}``
gives ``R$ 302,70`` in pt-BR and ``R$ 302.70`` in English (the currency's symbol, the
locale's decimal and thousands separators, the currency's own decimals: ``KD 1.235`` has
three, ``¥ 1,500`` none; see ``kernel.money.currency_exponent``)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

from kernel.money import currency_exponent

register = template.Library()

SYMBOLS = {
    "BRL": "R$",
    "USD": "US$",
    "EUR": "€",
    "GBP": "£",
    "ARS": "AR$",
    "MXN": "MX$",
    "JPY": "¥",
    "KWD": "KD",
}


def format_money(value, currency: str = "") -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    decimals = currency_exponent(currency) if currency else 2
    number = number_format(amount, decimals, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get((currency or "").upper(), (currency or "").upper())
    return f"{symbol}\u00a0{number}" if symbol else number


@register.filter
def money(value, currency: str = "") -> str:
    return format_money(value, currency)
