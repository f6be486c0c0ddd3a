"""The columns of an order file and the drafts its rows become: lines, headers, orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from inventory.models import Product
from kernel.csvio import (
    in_chunks,
    parse_decimal,
    parse_when,
)
from kernel.money import quantize_money
from orders.models import Channel
from orders.services import (
    ADDRESS_FIELDS,
    COUNTRY_RE,
    CURRENCY_RE,
    MAX_MONEY,
    intake_fingerprint,
)

ORDER_ACCEPT = "fulfillment.services.intake.order_accept"

ORDER_COLUMNS = (
    "channel",
    "external_id",
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "sku",
    "quantity",
    "unit_price",
    "shipping_total",
)
# Optional: the discount on the row's line (the whole line; blank: none). Exports fill
# it, so an exported order imports again as it was charged.
OPTIONAL_COLUMNS = ("discount_total",)
EXPORT_EXTRA_COLUMNS = (
    "number",
    "status",
    "allocation_status",
    "fulfillment_status",
    "financial_status",
    *OPTIONAL_COLUMNS,
)
# ``number`` is read too: an exported order placed without an external id is
# recognised by its number when the export is imported again.
READ_COLUMNS = (*ORDER_COLUMNS, *OPTIONAL_COLUMNS, "number")
ORDER_REQUIRED = ("channel", "external_id", "currency", "sku", "quantity")
ORDER_DECIMALS = ("unit_price", "shipping_total", "discount_total")
# Money cells are read with this many decimals, then held to their currency's own
# (``kernel.money``): a cell with more decimals than its currency has is a row error.
READ_PLACES = 6
HEADER_FIELDS = (
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "shipping_total",
)
_SHIP_LENGTHS = {
    "ship_name": 255,
    "ship_line1": 255,
    "ship_line2": 255,
    "ship_city": 128,
    "ship_region": 64,
    "ship_postcode": 32,
    "ship_country": 2,
}
MAX_WARNINGS = 50
ZERO = quantize_money(0)


def _noop(done: int, total: int, phase: str = "") -> None:
    return None


class ProductRef(NamedTuple):
    pk: int
    sku: str
    name: str
    price: Decimal
    active: bool


class DraftLine(NamedTuple):
    row: int
    product: ProductRef
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")


def products_by_sku(skus: list[str]) -> dict[str, ProductRef]:
    """The given SKUs that exist (one query on PostgreSQL)."""
    columns = ("id", "sku", "name", "price", "active")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM inventory_product WHERE sku = ANY(%s)",
                [skus],
            )
            rows = cursor.fetchall()
    else:
        rows = []
        for chunk in in_chunks(skus, 900):
            rows.extend(Product.objects.filter(sku__in=chunk).values_list(*columns))
    return {row[1]: ProductRef(*row) for row in rows}


@dataclass
class OrderDraft:
    """One order of the file, validated."""

    first_row: int
    channel: Channel
    external_id: str | None
    header: dict
    cells: tuple = ()
    number: str = ""  # when recognised by number (no external id)
    lines: list[DraftLine] = field(default_factory=list)
    existing: tuple | None = None  # (id, number, intake_hash) when already placed

    @property
    def label(self) -> str:
        return f"{self.channel.code}/{self.external_id or self.number}"

    @property
    def address(self) -> dict:
        address = {k: self.header.get(f"ship_{k}", "") for k in ADDRESS_FIELDS}
        address["phone"] = ""
        return address

    @cached_property
    def subtotal(self) -> Decimal:
        return quantize_money(
            sum((ln.unit_price * ln.quantity for ln in self.lines), ZERO),
            self.header["currency"],
        )

    @cached_property
    def discount_total(self) -> Decimal:
        return sum((ln.discount for ln in self.lines), ZERO)

    @cached_property
    def total(self) -> Decimal:
        return quantize_money(
            self.subtotal - self.discount_total + self.header["shipping_total"],
            self.header["currency"],
        )

    def fingerprint(self) -> str:
        return intake_fingerprint(
            currency=self.header["currency"],
            customer={"email": self.header["customer_email"]},
            address=self.address,
            lines=[(ln.product.sku, ln.quantity, ln.unit_price, ln.discount) for ln in self.lines],
            shipping_total=self.header["shipping_total"],
            tax_total=ZERO,
            discount_total=self.discount_total,
        )


class _HeaderParser:
    """Parses an order's header cells once per distinct combination."""

    def __init__(self, idx: dict[str, int | None]):
        # the header columns present in the file, and a fast getter of their cells
        self.names = [name for name, i in idx.items() if i is not None]
        positions = [idx[name] for name in self.names]
        if len(positions) > 1:
            self.cells = itemgetter(*positions)
        else:
            self.cells = (lambda row: (row[positions[0]],)) if positions else (lambda row: ())
        self.blank = dict.fromkeys(idx, "")
        self.cache: dict[tuple, tuple[dict, list[tuple[str, str, str]]]] = {}
        self.emails: dict[str, bool] = {}

    def parse(self, cells: tuple) -> tuple[dict, list[tuple[str, str, str]]]:
        cached = self.cache.get(cells)
        if cached is not None:
            return cached
        raw = {**self.blank, **dict(zip(self.names, cells, strict=True))}
        header: dict = {}
        problems: list[tuple[str, str, str]] = []
        value = raw["placed_at"]
        header["placed_at"] = None
        if value:
            try:
                header["placed_at"] = parse_when(value)
            except ValueError as exc:
                problems.append(("placed_at", value, f"placed_at {exc}"))
        email = raw["customer_email"]
        if email:
            valid = self.emails.get(email)
            if valid is None:
                try:
                    validate_email(email)
                    valid = len(email) <= 254
                except ValidationError:
                    valid = False
                self.emails[email] = valid
            if not valid:
                problems.append(("customer_email", email, f"{email!r} is not a valid e-mail"))
        header["customer_email"] = email
        name = raw["customer_name"]
        if len(name) > 255:
            problems.append(("customer_name", name[:50], "is too long (at most 255 characters)"))
        header["customer_name"] = name
        for column, maximum in _SHIP_LENGTHS.items():
            value = raw[column]
            if column == "ship_country":
                value = value.upper()
                if value and not COUNTRY_RE.match(value):
                    problems.append(
                        (column, raw[column], "ship_country must be a 2-letter ISO 3166-1 code")
                    )
            elif len(value) > maximum:
                problems.append(
                    (column, value[:50], f"{column} is too long (at most {maximum} characters)")
                )
            header[column] = value
        currency = raw["currency"].upper()
        if not CURRENCY_RE.match(currency):
            problems.append(
                ("currency", raw["currency"], "currency must be a 3-letter ISO 4217 code")
            )
        header["currency"] = currency
        value = raw["shipping_total"]
        header["shipping_total"] = ZERO
        if value:
            try:
                header["shipping_total"] = parse_decimal(
                    value, places=READ_PLACES, maximum=MAX_MONEY
                )
            except ValueError as exc:
                problems.append(("shipping_total", value, f"shipping_total {exc}"))
        self.cache[cells] = (header, problems)
        return header, problems
