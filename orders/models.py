import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import Product, Warehouse
from kernel.money import CENT, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, quantize_money


class MoneyField(models.DecimalField):
    """An amount of the row's currency: room for three decimals (KWD, BHD...)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        """Read back with cents when the third decimal is 0 (19.900 -> 19.90, 1.235
        stays): amounts of two-decimal currencies look as they always did; the API and
        the exports render each currency's own decimals (``kernel.money.format_money``)."""
        if value is not None and value == value.quantize(CENT):
            return value.quantize(CENT)
        return value


class RoutingStrategy(models.TextChoices):
    DEFAULT = "", "Project default"
    PRIORITY = "priority", "Warehouse priority"
    SINGLE_SHIPMENT = "single_shipment", "Fewest shipments"
    NEAREST = "nearest", "Nearest point"
    COST = "cost", "Lowest shipping cost"


class Platform(models.TextChoices):
    NONE = "none", "None"
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"


def mask_secret(value: str) -> str:
    """A credential as it may be shown back: its last 4 characters at most."""
    if not value:
        return ""
    return "****" + (value[-4:] if len(value) >= 12 else "")


class Channel(models.Model):
    class Kind(models.TextChoices):
        WEB_STORE = "web_store", "Web store"
        MARKETPLACE = "marketplace", "Marketplace"
        SOCIAL = "social", "Social"
        POS = "pos", "Point of sale"
        PHONE = "phone", "Phone"
        API = "api", "API"
        CSV = "csv", "CSV"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WEB_STORE)
    auto_confirm = models.BooleanField(default=False)
    handling_days = models.PositiveIntegerField(default=2, help_text="Business days to ship")
    routing_strategy = models.CharField(
        max_length=20, choices=RoutingStrategy.choices, blank=True, default=""
    )
    webhook_secret = models.CharField(max_length=128, blank=True, default="")
    active = models.BooleanField(default=True)
    # Auto-confirmation rules (orders.autoconfirm), checked when auto_confirm is on; an
    # order that fails one goes on hold, naming the failed rules, for the review queue.
    auto_confirm_require_payment = models.BooleanField(
        default=True, help_text="Auto-confirm only paid or authorized orders"
    )
    auto_confirm_max_total = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hold orders whose total is above this (blank: no limit)",
    )
    auto_confirm_max_quantity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Hold orders with a line above this quantity (blank: no limit)",
    )

    # Two-way connection (the ``intake`` app pushes stock and fulfillments to the
    # platform and polls it for missed orders). Credentials are write-only in the
    # admin and the API: only their last characters are ever shown back.
    platform = models.CharField(
        max_length=16, choices=Platform.choices, default=Platform.NONE, db_default=Platform.NONE
    )
    api_url = models.URLField(
        blank=True, default="", db_default="", help_text="The store's base URL (https://...)"
    )
    access_token = models.CharField(
        max_length=255, blank=True, default="", db_default="", help_text="Shopify Admin API token"
    )
    consumer_key = models.CharField(
        max_length=255, blank=True, default="", db_default="", help_text="WooCommerce"
    )
    consumer_secret = models.CharField(
        max_length=255, blank=True, default="", db_default="", help_text="WooCommerce"
    )
    stock_warehouses = models.ManyToManyField(
        Warehouse,
        blank=True,
        related_name="stock_channels",
        help_text="Fulfillment points whose stock this channel sells (none chosen: all active)",
    )
    stock_buffer = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Units per SKU held back from this channel"
    )
    stock_share_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Offer only this share of the available stock (blank: all of it)",
    )
    push_stock = models.BooleanField(
        default=False, db_default=False, help_text="Push available-to-sell quantities"
    )
    push_fulfillments = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Tell the platform about shipments, cancellations and refunds",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def connected(self) -> bool:
        return self.platform != Platform.NONE and bool(self.api_url)


class Customer(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=255, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    # db_default too: the CSV fast path inserts customers and orders with plain SQL.
    blocked = models.BooleanField(
        default=False, db_default=False, help_text="Never auto-confirm this customer's orders"
    )
    blocked_reason = models.CharField(max_length=255, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        indexes = [
            # Placement finds the customer by e-mail case-insensitively (iexact compiles
            # to UPPER(email)): without this index every order scanned all customers.
            models.Index(Upper("email"), name="customer_email_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.email


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONFIRMED = "confirmed", _("Confirmed")
        ON_HOLD = "on_hold", _("On hold")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    class AllocationStatus(models.TextChoices):
        UNALLOCATED = "unallocated", _("Unallocated")
        PARTIAL = "partial", _("Partially allocated")
        ALLOCATED = "allocated", _("Allocated")

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", _("Unfulfilled")
        PARTIAL = "partial", _("Partially fulfilled")
        FULFILLED = "fulfilled", _("Fulfilled")

    class FinancialStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        AUTHORIZED = "authorized", _("Authorized")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")
        VOIDED = "voided", _("Voided")

    number = models.CharField(max_length=20, unique=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=128, null=True, blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    ship_name = models.CharField(max_length=255, blank=True, default="")
    ship_line1 = models.CharField(max_length=255, blank=True, default="")
    ship_line2 = models.CharField(max_length=255, blank=True, default="")
    ship_city = models.CharField(max_length=128, blank=True, default="")
    ship_region = models.CharField(max_length=64, blank=True, default="")
    ship_postcode = models.CharField(max_length=32, blank=True, default="")
    ship_country = models.CharField(max_length=2, blank=True, default="")
    ship_phone = models.CharField(max_length=32, blank=True, default="")
    currency = models.CharField(max_length=3, default="EUR")
    # Money: three decimal places in the database, each currency's amounts quantized to
    # its own minor unit (kernel.money). subtotal: the lines at their prices, before
    # discounts; discount_total: the lines' discounts; total = subtotal -
    # discount_total + shipping_total + tax_total, what the customer was charged.
    subtotal = MoneyField(default=0)
    discount_total = MoneyField(default=0, db_default=0)
    shipping_total = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    refunded_total = MoneyField(default=0)
    placed_at = models.DateTimeField(db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ship_by = models.DateTimeField(null=True, blank=True)
    tracking_token = models.CharField(max_length=64, unique=True, default=new_tracking_token)
    notes = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    hold_reason = models.CharField(max_length=255, blank=True, default="")
    cancel_reason = models.CharField(max_length=255, blank=True, default="")
    allocation_status = models.CharField(
        max_length=16, choices=AllocationStatus.choices, default=AllocationStatus.UNALLOCATED
    )
    fulfillment_status = models.CharField(
        max_length=16, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    financial_status = models.CharField(
        max_length=20, choices=FinancialStatus.choices, default=FinancialStatus.PENDING
    )
    # Delay detection (orders.delays, every 15 minutes): at risk of missing ship_by, and
    # shipped but past the carrier's estimated delivery.
    at_risk = models.BooleanField(default=False, db_default=False)
    at_risk_reason = models.CharField(max_length=255, blank=True, default="", db_default="")
    at_risk_since = models.DateTimeField(null=True, blank=True)
    projected_ship_date = models.DateField(null=True, blank=True)
    late = models.BooleanField(default=False, db_default=False)
    # Fingerprint of the placement content: a repeated (channel, external_id) with the
    # same fingerprint is a replay, with another one a conflict.
    intake_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_channel_external_id_unique"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("total")),
                name="order_refunded_lte_total",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "placed_at"], name="order_status_placed_idx"),
            models.Index(fields=["at_risk"], condition=Q(at_risk=True), name="order_at_risk_idx"),
            models.Index(fields=["late"], condition=Q(late=True), name="order_late_idx"),
        ]

    def __str__(self) -> str:
        return self.number


# Allowed moves of Order.status; services check every change against this table.
S = Order.Status
ORDER_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.CONFIRMED, S.ON_HOLD, S.CANCELLED},
    S.ON_HOLD: {S.PENDING, S.CONFIRMED, S.CANCELLED},
    S.CONFIRMED: {S.ON_HOLD, S.SHIPPED, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED},
    S.DELIVERED: set(),
    S.CANCELLED: set(),
}
F_S = Order.FinancialStatus
FINANCIAL_TRANSITIONS: dict[str, set[str]] = {
    F_S.PENDING: {F_S.AUTHORIZED, F_S.PARTIALLY_PAID, F_S.PAID, F_S.VOIDED},
    F_S.AUTHORIZED: {F_S.PARTIALLY_PAID, F_S.PAID, F_S.VOIDED},
    F_S.PARTIALLY_PAID: {F_S.PAID, F_S.PARTIALLY_REFUNDED, F_S.REFUNDED},
    # paid -> partially paid: an edit raised the total above what was captured.
    F_S.PAID: {F_S.PARTIALLY_PAID, F_S.PARTIALLY_REFUNDED, F_S.REFUNDED},
    F_S.PARTIALLY_REFUNDED: {F_S.PARTIALLY_REFUNDED, F_S.REFUNDED},
    F_S.REFUNDED: set(),
    F_S.VOIDED: set(),
}
del S, F_S


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField()
    # The line's share of the order's discounts (the whole line, not per unit): what was
    # paid for it is unit_price * quantity - discount_total.
    discount_total = MoneyField(default=0, db_default=0)
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="orderline_unit_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(discount_total__gte=0)
                & Q(discount_total__lte=F("unit_price") * F("quantity")),
                name="orderline_discount_within_line",
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity__gte=F("quantity_allocated")
                    + F("quantity_shipped")
                    + F("quantity_cancelled")
                ),
                name="orderline_quantities_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_shipped")),
                name="orderline_returned_lte_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.sku}x{self.quantity}"

    @property
    def quantity_open(self) -> int:
        """Ordered and neither cancelled nor shipped."""
        return self.quantity - self.quantity_cancelled - self.quantity_shipped

    @property
    def quantity_backordered(self) -> int:
        return (
            self.quantity
            - self.quantity_cancelled
            - self.quantity_allocated
            - self.quantity_shipped
        )

    @property
    def line_total(self):
        """The line at its price, before its discount."""
        return self.unit_price * self.quantity

    @property
    def paid_total(self):
        """What the customer paid for the whole line: after its discount."""
        return self.unit_price * self.quantity - self.discount_total

    def paid_for(self, units: int, *, currency: str | None = None):
        """What the customer paid for ``units`` of this line (its discount shared evenly
        over the units), in the currency's minor units."""
        if units >= self.quantity:
            return quantize_money(self.paid_total, currency)
        return quantize_money(self.paid_total * units / self.quantity, currency)


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        PLACED = "placed", pgettext_lazy("order event", "Placed")
        CONFIRMED = "confirmed", _("Confirmed")
        HELD = "held", _("Held")
        RELEASED = "released", _("Released")
        ALLOCATED = "allocated", _("Allocated")
        BACKORDERED = "backordered", _("Backordered")
        SHIPMENT_CREATED = "shipment_created", _("Shipment created")
        SHIPMENT_CANCELLED = "shipment_cancelled", _("Shipment cancelled")
        PICKED = "picked", _("Picked")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        EDITED = "edited", _("Edited")
        AT_RISK = "at_risk", _("At risk")
        LATE = "late", pgettext_lazy("order event", "Late")
        PAYMENT = "payment", _("Payment")
        RETURN_REQUESTED = "return_requested", _("Return requested")
        RETURN_APPROVED = "return_approved", _("Return approved")
        RETURN_REJECTED = "return_rejected", _("Return rejected")
        RETURN_RECEIVED = "return_received", _("Return received")
        REFUNDED = "refunded", _("Refunded")
        NOTE = "note", _("Note")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, default="system")
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class Payment(models.Model):
    """A payment transaction on an order, as the payment provider reported it: money
    authorised, captured, voided (an authorisation released) or refunded. The order's
    ``financial_status`` follows them (``orders.services.payment_record``); refunds never
    exceed what was captured minus what was refunded before."""

    class Kind(models.TextChoices):
        AUTHORIZED = "authorized", "Authorised"
        CAPTURED = "captured", "Captured"
        VOIDED = "voided", "Voided"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=64, blank=True, default="")
    reference = models.CharField(max_length=128, blank=True, default="")
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} on {self.order_id}"
