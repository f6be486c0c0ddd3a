"""Parsing a cell: whole numbers, decimals, booleans, dates, lengths."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# --------------------------------------------------------------------------- values
# Parsers raise ValueError with a message meant for the person who wrote the file.

_WHOLE_RE = re.compile(r"^\+?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_COMMA_DECIMAL_RE = re.compile(r"^[+-]?\d+,\d+$")
_TRUE = {"1", "true", "t", "yes", "y", "on", "x"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def parse_distinct(cells: Iterable[str], parse: Callable, **kwargs) -> dict | None:
    """cell -> ``parse(cell, **kwargs)`` for each distinct cell of a column; None as soon
    as one cell does not parse (the import's row-by-row pass then words the error)."""
    values = {}
    for cell in set(cells):
        try:
            values[cell] = parse(cell, **kwargs)
        except ValueError:
            return None
    return values


def parse_whole(value: str, *, maximum: int | None = None, positive: bool = False) -> int:
    """A whole number >= 0 (> 0 with ``positive``), at most ``maximum``."""
    if _WHOLE_RE.match(value):
        number = int(value)
    elif value.startswith("-") and _WHOLE_RE.match(value[1:]):
        raise ValueError("must not be negative")
    elif _DECIMAL_RE.match(value) or _COMMA_DECIMAL_RE.match(value):
        try:
            as_decimal = Decimal(value.replace(",", "."))
        except InvalidOperation:
            as_decimal = None
        if as_decimal is not None and as_decimal == as_decimal.to_integral_value():
            number = int(as_decimal)
            if number < 0:
                raise ValueError("must not be negative")
        else:
            raise ValueError("must be a whole number")
    elif not value:
        raise ValueError("is required")
    else:
        raise ValueError("must be a whole number")
    if positive and number == 0:
        raise ValueError("must be greater than 0")
    if maximum is not None and number > maximum:
        raise ValueError(f"must be at most {maximum:,}".replace(",", " "))
    return number


def parse_decimal(value: str, *, places: int = 2, maximum: Decimal | None = None) -> Decimal:
    """A decimal >= 0 written with a decimal point; rounded half up to ``places``."""
    if not value:
        raise ValueError("is required")
    if _COMMA_DECIMAL_RE.match(value):
        raise ValueError(
            f"uses a comma as the decimal separator; write decimals with a point "
            f"({value.replace(',', '.')}), without thousands separators"
        )
    if not _DECIMAL_RE.match(value):
        if "," in value or "." in value:
            raise ValueError(
                "is not a plain decimal number: use a decimal point and no thousands "
                "separators (e.g. 1234.50)"
            )
        raise ValueError("is not a decimal number")
    amount = Decimal(value)
    if amount < 0:
        raise ValueError("must not be negative")
    if maximum is not None and amount > maximum:
        raise ValueError(f"is too large (at most {maximum})")
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_bool(value: str, *, default: bool = True) -> bool:
    lowered = value.lower()
    if not lowered:
        return default
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("must be true or false (also accepted: 1/0, yes/no)")


def parse_when(value: str) -> datetime:
    """ISO 8601 date-time (``2026-11-26T10:00:00Z``, ``2026-11-26 10:00:00``) or a date;
    without an offset it is taken in the project's time zone."""
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime.combine(day, dtime.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError("is not a date/time; use ISO 8601, e.g. 2026-11-26T10:00:00Z")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def check_length(value: str, maximum: int) -> str:
    if len(value) > maximum:
        raise ValueError(f"is too long ({len(value)} characters; at most {maximum})")
    return value


def in_chunks(items: Sequence, size: int = 900):
    """Slices of ``items`` small enough for one IN (...) list on any database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
