from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import Warehouse
from orders.models import MoneyField, Order, OrderLine


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

    class Meta:
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity")),
                name="returnline_received_lte_qty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}:{self.order_line_id}x{self.quantity}"


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
