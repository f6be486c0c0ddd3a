"""What both platforms map to, and the helpers their mappers share."""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_datetime

from kernel.money import quantize_money
from orders.models import Order
from orders.services import COUNTRY_RE, CURRENCY_RE

FS = Order.FinancialStatus
# Limits of the order's snapshot columns.
ADDRESS_LIMITS = {
    "name": 255,
    "line1": 255,
    "line2": 255,
    "city": 128,
    "region": 64,
    "postcode": 32,
    "country": 2,
    "phone": 32,
}
REQUIRED_ADDRESS = ("name", "line1", "city", "country")


class MappingError(Exception):
    """The payload cannot describe an order at all (no id, not an object)."""


@dataclass
class MappedLine:
    sku: str
    quantity: int
    unit_price: Decimal | None
    title: str = ""
    discount_total: Decimal = Decimal("0")  # on the whole line


@dataclass
class MappedOrder:
    """A platform order in our terms. ``problems`` are reasons to hold the order (it is
    placed anyway); ``notes`` are remarks for the timeline."""

    platform: str
    external_id: str
    label: str  # how the platform names it, e.g. "#1001"
    currency: str
    customer: dict
    address: dict
    lines: list[MappedLine]
    shipping_total: Decimal
    tax_total: Decimal
    financial_status: str
    # The order's whole discount when it is more than the lines' own (shared over them).
    discount_total: Decimal | None = None
    refunded_amount: Decimal | None = None
    cancelled: bool = False
    cancel_reason: str = ""
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    platform_total: Decimal | None = None
    note: str = ""
    problems: list[str] = field(default_factory=list)
    address_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def placement_financial_status(self) -> str:
        """What a new order starts with: placement knows pending/authorized/paid; a
        refund or void on the platform is applied after placement."""
        if self.financial_status in (FS.PAID, FS.PARTIALLY_REFUNDED, FS.REFUNDED):
            return FS.PAID
        if self.financial_status == FS.AUTHORIZED:
            return FS.AUTHORIZED
        return FS.PENDING


def base64_hmac_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Shopify's and WooCommerce's scheme: base64 of the HMAC-SHA256 of the raw body,
    compared in constant time."""
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode("utf-8", errors="replace"))


def base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text(value, limit: int = 255) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "").strip()[:limit]


def money(value, what: str, problems: list[str], currency: str | None = None) -> Decimal:
    """A platform amount ("19.90", 19.9, null) as Decimal in the currency's minor units
    (the platform's amounts are what was charged); junk becomes 0 and a problem."""
    if value in (None, ""):
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        problems.append(f"{what} {value!r} is not an amount")
        return Decimal("0")
    if not amount.is_finite() or amount < 0:
        problems.append(f"{what} {value!r} is not an amount")
        return Decimal("0")
    return quantize_money(amount, currency)


def optional_money(value, currency: str | None = None) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return quantize_money(amount, currency) if amount.is_finite() else None


def currency_or_none(value) -> str | None:
    """The currency code if it is one (for quantizing before ``clean_currency`` runs)."""
    code = text(value, 8).upper()
    return code if CURRENCY_RE.match(code) else None


def quantity(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number


def timestamp(value) -> datetime | None:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return parsed


def full_name(*parts) -> str:
    return " ".join(text(p) for p in parts if text(p))[:255]


def clean_address(raw: dict, problems: list[str]) -> dict:
    """Trim to the snapshot columns; a missing part or a bad country is a hold reason."""
    address = {k: text(raw.get(k), limit) for k, limit in ADDRESS_LIMITS.items() if k != "country"}
    country = text(raw.get("country"), 8).upper()
    if country and not COUNTRY_RE.match(country):
        problems.append(f"shipping country {country!r} is not an ISO 3166-1 alpha-2 code")
        country = ""
    address["country"] = country
    missing = [k for k in REQUIRED_ADDRESS if not address[k]]
    if len(missing) == len(REQUIRED_ADDRESS):
        problems.append("no shipping address")
    elif missing:
        problems.append("shipping address incomplete: no " + ", ".join(missing))
    return address


def clean_customer(email, name: str, phone: str, notes: list[str]) -> dict:
    email = text(email, 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            notes.append(f"customer e-mail {email!r} is not valid; order placed without it")
            email = ""
    return {"email": email, "name": name[:255], "phone": text(phone, 32)}


def clean_currency(value) -> str:
    currency = text(value, 8).upper()
    if not CURRENCY_RE.match(currency):
        raise MappingError(f"currency {value!r} is not an ISO 4217 code")
    return currency
