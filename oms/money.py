from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Round a money amount to cents, half up (the way invoices round)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
