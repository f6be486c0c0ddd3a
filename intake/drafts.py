"""Staff-created orders (a phone call, an e-mail, a marketplace message): a draft saved
as the manager types it, then placed through the one intake path
(``fulfillment.services.intake.order_place_and_confirm``: the same numbering, routing
and auto-confirm rules as the API) on a staff channel.

A draft is not an order: it takes no number and reserves nothing. It is placed once:
its external id is derived from the draft (``OrderDraft.external_id``), and placing
locks the draft row, so a double click or two managers get the one order.

Locks: every write locks the draft row (``SELECT ... FOR UPDATE``) first, so two
managers editing the same draft queue instead of one losing the other's lines;
``draft_place`` then takes the locks of placement (stock levels by primary key).
"""

from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from fulfillment.services.intake import order_place_and_confirm
from intake.draft_selectors import customer_last_address
from intake.models import OrderDraft
from inventory.models import Product
from kernel.db import retry_on_conflict
from kernel.exceptions import Conflict, DomainError
from kernel.money import MoneyPlacesError, money_exact
from orders.autoconfirm import NO_POSTCODE_COUNTRIES
from orders.exceptions import OrderInvalid
from orders.models import Channel, Customer, Order
from orders.services import ADDRESS_FIELDS, COUNTRY_RE, CURRENCY_RE, MAX_LINE_QUANTITY, MAX_LINES

STAFF_CHANNEL_CODE = "phone"
REQUIRED_ADDRESS = ("name", "line1", "city", "postcode", "country")
EDITABLE = (
    "customer_email",
    "customer_name",
    "customer_phone",
    "shipping_address",
    "currency",
    "shipping_method",
    "shipping_total",
    "financial_status",
    "payment_method",
    "payment_reference",
    "notes",
)


class DraftInvalid(DomainError):
    """The draft cannot be saved or placed as it is: ``errors`` maps each field
    (``customer.email``, ``shipping_address.city``, ``lines[1].quantity``...) to its
    messages."""

    code = "invalid_draft"

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0]
        super().__init__(first, field=next(iter(errors)))
        self.errors = errors


class DraftPlaced(Conflict):
    """The draft was placed: it is the order now, edited on the order page."""

    code = "draft_placed"


def staff_channel() -> Channel:
    """The channel staff-entered orders are placed on (``phone``), created the first
    time with auto-confirm on (its rules decide, as for any channel)."""
    channel, _ = Channel.objects.get_or_create(
        code=STAFF_CHANNEL_CODE,
        defaults={"name": "Phone & e-mail", "kind": Channel.Kind.PHONE, "auto_confirm": True},
    )
    return channel


def _default_currency() -> str:
    last = Order.objects.order_by("-id").values_list("currency", flat=True).first()
    return last or "EUR"


def draft_create(*, user=None, channel: Channel | None = None) -> OrderDraft:
    """A new, empty draft on the staff channel, in the currency of the latest order."""
    return OrderDraft.objects.create(
        channel=channel or staff_channel(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        currency=_default_currency(),
    )


def _lock(draft: OrderDraft) -> OrderDraft:
    locked = OrderDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.placed_order_id is not None:
        raise DraftPlaced(
            f"This draft was placed as order {locked.placed_order.number}",
            number=locked.placed_order.number,
        )
    return locked


def _copy_back(draft: OrderDraft, locked: OrderDraft) -> OrderDraft:
    for name in (*EDITABLE, "lines", "updated_at"):
        setattr(draft, name, getattr(locked, name))
    return draft


@transaction.atomic
def draft_update(*, draft: OrderDraft, **fields) -> OrderDraft:
    """Save what the manager typed (any of ``EDITABLE``). A draft may be incomplete;
    only what cannot be stored at all is refused (a currency that is no ISO code, an
    amount with too many decimals)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    locked = _lock(draft)
    errors: dict[str, list[str]] = {}
    if "currency" in fields:
        fields["currency"] = (fields["currency"] or "").strip().upper()
        if not CURRENCY_RE.match(fields["currency"]):
            errors["currency"] = ["Use a 3-letter ISO 4217 currency code, e.g. EUR."]
    if "shipping_address" in fields:
        given = fields["shipping_address"] or {}
        fields["shipping_address"] = {k: str(given.get(k) or "").strip() for k in ADDRESS_FIELDS}
    currency = fields.get("currency", locked.currency)
    if "shipping_total" in fields and "currency" not in errors:
        try:
            fields["shipping_total"] = money_exact(fields["shipping_total"] or 0, currency)
            if fields["shipping_total"] < 0:
                raise InvalidOperation
        except MoneyPlacesError:
            errors["shipping_total"] = [f"Too many decimals for {currency}."]
        except (InvalidOperation, ValueError, TypeError):
            errors["shipping_total"] = ["Enter an amount of 0 or more."]
    if "financial_status" in fields and fields["financial_status"] not in OrderDraft.Payment.values:
        errors["financial_status"] = ["Choose pending, authorized or paid."]
    if errors:
        raise DraftInvalid(errors)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.save()
    return _copy_back(draft, locked)


@transaction.atomic
def draft_set_customer(*, draft: OrderDraft, customer: Customer) -> OrderDraft:
    """Take an existing customer: their e-mail, name and phone, and (when the draft has
    no address yet) the address of their latest order."""
    locked = _lock(draft)
    locked.customer_email = customer.email
    locked.customer_name = customer.name
    locked.customer_phone = customer.phone
    if not any((locked.shipping_address or {}).values()):
        last = customer_last_address(customer=customer)
        if last:
            locked.shipping_address = last
    locked.save()
    return _copy_back(draft, locked)


def _quantity(value, field: str) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise DraftInvalid({field: ["Enter a whole number."]}) from None
    if quantity <= 0:
        raise DraftInvalid({field: ["Quantity must be at least 1."]})
    if quantity > MAX_LINE_QUANTITY:
        raise DraftInvalid({field: [f"Quantity must be at most {MAX_LINE_QUANTITY}."]})
    return quantity


def _price(value, currency: str, field: str) -> str:
    try:
        price = money_exact(str(value).strip(), currency)
    except MoneyPlacesError:
        raise DraftInvalid({field: [f"Too many decimals for {currency}."]}) from None
    except (InvalidOperation, ValueError, TypeError):
        raise DraftInvalid({field: ["Enter a price, e.g. 19.90."]}) from None
    if price < 0:
        raise DraftInvalid({field: ["The price cannot be negative."]})
    return str(price)


@transaction.atomic
def draft_line_add(*, draft: OrderDraft, product: Product, quantity=1) -> dict:
    """Add ``quantity`` of ``product`` at its list price; a product already on the
    draft gets the quantity added to its line (scanning an item twice means two)."""
    locked = _lock(draft)
    if not product.active:
        raise DraftInvalid({"code": [f"SKU {product.sku} is inactive."]})
    quantity = _quantity(quantity, "quantity")
    lines = list(locked.lines)
    for line in lines:
        if line["sku"] == product.sku:
            line["quantity"] = _quantity(line["quantity"] + quantity, "quantity")
            break
    else:
        if len(lines) >= MAX_LINES:
            raise DraftInvalid({"code": [f"An order may have at most {MAX_LINES} lines."]})
        line = {
            "sku": product.sku,
            "quantity": quantity,
            "unit_price": _price(product.price, locked.currency, "unit_price"),
        }
        lines.append(line)
    locked.lines = lines
    locked.save(update_fields=["lines", "updated_at"])
    _copy_back(draft, locked)
    return line


@transaction.atomic
def draft_lines_set(*, draft: OrderDraft, lines: list[dict]) -> OrderDraft:
    """Replace the quantities and prices of the draft's lines (``[{sku, quantity,
    unit_price}]``, the lines table as submitted); every bad value is reported, by row,
    and nothing is saved then."""
    locked = _lock(draft)
    errors: dict[str, list[str]] = {}
    cleaned = []
    for i, line in enumerate(lines):
        sku = str(line.get("sku") or "").strip()
        row = {"sku": sku}
        try:
            row["quantity"] = _quantity(line.get("quantity"), f"lines[{i}].quantity")
        except DraftInvalid as exc:
            errors.update(exc.errors)
        try:
            row["unit_price"] = _price(
                line.get("unit_price"), locked.currency, f"lines[{i}].unit_price"
            )
        except DraftInvalid as exc:
            errors.update(exc.errors)
        cleaned.append(row)
    if errors:
        raise DraftInvalid(errors)
    locked.lines = cleaned
    locked.save(update_fields=["lines", "updated_at"])
    return _copy_back(draft, locked)


@transaction.atomic
def draft_line_remove(*, draft: OrderDraft, sku: str) -> OrderDraft:
    locked = _lock(draft)
    locked.lines = [line for line in locked.lines if line["sku"] != sku]
    locked.save(update_fields=["lines", "updated_at"])
    return _copy_back(draft, locked)


@transaction.atomic
def draft_discard(*, draft: OrderDraft) -> None:
    _lock(draft).delete()


def _notes(draft: OrderDraft) -> str:
    method = f"Shipping method: {draft.shipping_method}" if draft.shipping_method else ""
    return "\n".join(part for part in (method, draft.notes.strip()) if part)


def draft_placement(draft: OrderDraft) -> dict:
    """The ``order_place`` arguments of a complete draft; every missing or bad field
    at once otherwise (DraftInvalid)."""
    errors: dict[str, list[str]] = {}
    email = draft.customer_email.strip()
    if not email:
        errors["customer.email"] = ["Pick a customer or enter their e-mail."]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["customer.email"] = [f"{email!r} is not a valid e-mail."]
    if not draft.customer_name.strip():
        errors["customer.name"] = ["Enter the customer's name."]
    address = {k: str((draft.shipping_address or {}).get(k) or "").strip() for k in ADDRESS_FIELDS}
    address["country"] = address["country"].upper()
    for key in REQUIRED_ADDRESS:
        if key == "postcode" and address["country"] in NO_POSTCODE_COUNTRIES:
            continue
        if not address[key]:
            errors[f"shipping_address.{key}"] = ["This field is required."]
    if address["country"] and not COUNTRY_RE.match(address["country"]):
        errors["shipping_address.country"] = ["Use a 2-letter ISO 3166-1 country code."]
    if not draft.lines:
        errors["lines"] = ["Add at least one line: scan or type a SKU."]
    skus = [line.get("sku") for line in draft.lines]
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    for i, line in enumerate(draft.lines):
        product = products.get(line.get("sku"))
        if product is None:
            errors[f"lines[{i}].sku"] = [f"Unknown SKU {line.get('sku')!r}."]
        elif not product.active:
            errors[f"lines[{i}].sku"] = [f"SKU {product.sku} is inactive."]
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors[f"lines[{i}].quantity"] = ["Quantity must be at least 1."]
    if errors:
        raise DraftInvalid(errors)
    return {
        "channel": draft.channel,
        "external_id": draft.external_id,
        "customer": {
            "email": email,
            "name": draft.customer_name.strip(),
            "phone": draft.customer_phone.strip(),
        },
        "shipping_address": address,
        "currency": draft.currency,
        "lines": [
            {
                "product": products[line["sku"]],
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
            }
            for line in draft.lines
        ],
        "shipping_total": draft.shipping_total,
        "financial_status": draft.financial_status,
        "payment_method": draft.payment_method.strip(),
        "payment_reference": draft.payment_reference.strip(),
        "notes": _notes(draft),
    }


@retry_on_conflict
def draft_place(*, draft: OrderDraft, actor=None) -> tuple[Order, bool]:
    """Place the draft through intake, in one transaction with marking it placed.
    Placed before (a double click, another manager): ``(that order, False)``.
    Incomplete or refused by placement: DraftInvalid, nothing placed."""
    locked = OrderDraft.objects.select_for_update().select_related("channel").get(pk=draft.pk)
    if locked.placed_order_id is not None:
        return locked.placed_order, False
    placement = draft_placement(locked)
    try:
        order, created = order_place_and_confirm(actor=actor, **placement)
    except OrderInvalid as exc:
        raise DraftInvalid({exc.field or "__all__": [exc.message]}) from None
    locked.placed_order = order
    locked.placed_at = timezone.now()
    locked.save(update_fields=["placed_order", "placed_at", "updated_at"])
    draft.placed_order, draft.placed_at = order, locked.placed_at
    return order, created
