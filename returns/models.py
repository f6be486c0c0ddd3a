from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import Product, Warehouse
from orders.models import Channel, MoneyField, Order, OrderLine


class ReturnRequest(models.Model):
    """An RMA."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        CLOSED = "closed", _("Closed")

    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    reject_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # An exchange: the order that sends the replacements (returns.exchanges). One per
    # RMA, and an order replaces at most one RMA.
    replacement_order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_for",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


R = ReturnRequest.Status
RETURN_TRANSITIONS: dict[str, set[str]] = {
    R.REQUESTED: {R.APPROVED, R.REJECTED},
    R.APPROVED: {R.RECEIVED},
    R.RECEIVED: {R.REFUNDED, R.CLOSED},
    R.REFUNDED: {R.CLOSED},
    R.REJECTED: set(),
    R.CLOSED: set(),
}
del R


class ReturnLine(models.Model):
    class Reason(models.TextChoices):
        DAMAGED = "damaged", _("Damaged")
        DEFECTIVE = "defective", _("Defective")
        WRONG_ITEM = "wrong_item", _("Wrong item")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        SIZE_FIT = "size_fit", _("Size or fit")
        NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
        ARRIVED_LATE = "arrived_late", _("Arrived late")
        OTHER = "other", _("Other")

    class Condition(models.TextChoices):
        NEW = "new", pgettext_lazy("returned item condition", "New")
        OPENED = "opened", _("Opened")
        DAMAGED = "damaged", _("Damaged")

    class Disposition(models.TextChoices):
        RESTOCK = "restock", _("Restock")
        SCRAP = "scrap", _("Scrap")

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.OTHER)
    customer_comment = models.TextField(blank=True, default="")
    quantity_received = models.PositiveIntegerField(default=0)
    condition = models.CharField(max_length=16, choices=Condition.choices, blank=True, default="")
    disposition = models.CharField(
        max_length=16, choices=Disposition.choices, blank=True, default=""
    )
    restock_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An exchange line: what to send instead (the same SKU or another), at most as many
    # units as come back. None and 0: a plain return.
    replacement_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replacement_quantity = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity")),
                name="returnline_received_lte_qty",
            ),
            models.CheckConstraint(
                condition=(
                    Q(replacement_product__isnull=True, replacement_quantity=0)
                    | Q(
                        replacement_product__isnull=False,
                        replacement_quantity__gt=0,
                        replacement_quantity__lte=models.F("quantity"),
                    )
                ),
                name="returnline_replacement_within_qty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}:{self.order_line_id}x{self.quantity}"

    @property
    def is_exchange(self) -> bool:
        return self.replacement_product_id is not None


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    amount = MoneyField()
    # What the amount is made of: the returned goods (after their discounts), and the
    # tax and shipping refunded with them, each chosen explicitly.
    items_amount = MoneyField(default=0, db_default=0)
    tax_amount = MoneyField(default=0, db_default=0)
    shipping_amount = MoneyField(default=0, db_default=0)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=128, blank=True, default="")
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.order_id}"


class ExchangePolicy(models.Model):
    """How a channel's exchanges ship. A channel without a policy waits for the return
    (``ship_before_return`` False): nothing leaves before the goods come back unless the
    seller chose so for that channel."""

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, related_name="exchange_policy"
    )
    ship_before_return = models.BooleanField(
        default=False,
        help_text="Ship the replacement when the exchange is approved; else hold it until "
        "the return is received",
    )

    class Meta:
        verbose_name_plural = "exchange policies"

    def __str__(self) -> str:
        return f"{self.channel.code}: " + (
            "ship before the return" if self.ship_before_return else "ship after the return"
        )
