"""Channel sync state: which of our SKUs each channel lists (and under which platform
ids), which SKUs wait to be pushed, what is to be told to the platform about orders,
and the last push and reconciliation of each channel; and the drafts of orders staff
enter for customers, until they are placed."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from inventory.models import Product
from orders.models import Channel, MoneyField, Order


class ChannelListing(models.Model):
    """One of our SKUs as the channel sells it. Shopify: the variant, its inventory item
    and the location the stock is set at; WooCommerce: the product, or the variation
    and its parent product."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="listings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listings")
    sku = models.CharField(max_length=64)
    remote_product_id = models.CharField(max_length=128, blank=True, default="")
    remote_variant_id = models.CharField(max_length=128, blank=True, default="")
    inventory_item_id = models.CharField(max_length=128, blank=True, default="")
    location_id = models.CharField(max_length=128, blank=True, default="")
    last_pushed_quantity = models.IntegerField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_id", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "product"], name="listing_channel_product")
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.sku}"


class ChannelStockPending(models.Model):
    """A listed SKU whose quantity the channel has not heard yet. Deleted when the push
    is accepted; a failed push keeps it with the platform's message and the time of the
    next attempt (backoff)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="stock_pending")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["channel_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "product"], name="stockpending_unique")
        ]
        indexes = [models.Index(fields=["channel", "next_attempt_at"], name="stockpending_due")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.product_id}"


class ChannelSyncState(models.Model):
    """One per channel: the row a push locks (so pushes of one channel never overlap and
    the last quantity read is the last one sent), and what the sync page shows."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="sync_state")
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_push_skus = models.PositiveIntegerField(default=0)
    last_push_calls = models.PositiveIntegerField(default=0)
    last_push_failed = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    reconcile_cursor = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_report = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"sync state of {self.channel_id}"


class ChannelOutbox(models.Model):
    """Something the platform must hear about an order (a shipment shipped, the order
    cancelled, a refund, a staff edit), written in the transaction of the change and
    delivered after commit; retried with backoff until accepted or refused. ``note``
    says what of the change was not sent and why (a SKU the channel does not list, a
    change the platform's API cannot express); a change with nothing the platform can
    hear is recorded as ``skipped``."""

    class Kind(models.TextChoices):
        FULFILLMENT = "fulfillment", "Fulfillment"
        CANCEL = "cancel", "Cancellation"
        REFUND = "refund", "Refund"
        EDIT = "edit", "Order edit"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="outbox")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="channel_outbox")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reference = models.CharField(max_length=64, help_text="Shipment number, refund id...")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    remote_id = models.CharField(max_length=128, blank=True, default="")
    note = models.TextField(blank=True, default="", help_text="What was not sent, and why")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "reference"], name="channeloutbox_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="channeloutbox_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class PushRequest(models.Model):
    """One row: a stock push task is queued and has not started yet. The commit of a
    stock change queues a task only when it is the one to set ``requested`` (so a burst
    of changes queues one task, not one each); the task clears it before it reads the
    marks, so a change committed after that queues the next one."""

    requested = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "push requested" if self.requested else "no push requested"


class OrderDraft(models.Model):
    """An order a manager is entering for a customer (a phone call, an e-mail, a
    marketplace message): saved as it is typed, so it survives reloads and can be picked
    up again, and placed through the one intake path
    (``fulfillment.services.intake.order_place_and_confirm``) when it is complete. Not
    an Order: nothing reads drafts but the staff order page. ``lines``:
    ``[{"sku", "quantity", "unit_price"}]`` (the price as a string, in ``currency``);
    ``shipping_address``: the keys of an order's ``ship_*`` fields."""

    class Payment(models.TextChoices):
        PENDING = Order.FinancialStatus.PENDING, "Pending (to be paid)"
        AUTHORIZED = Order.FinancialStatus.AUTHORIZED, "Authorized"
        PAID = Order.FinancialStatus.PAID, "Paid"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_email = models.CharField(max_length=254, blank=True, default="")
    customer_name = models.CharField(max_length=255, blank=True, default="")
    customer_phone = models.CharField(max_length=32, blank=True, default="")
    shipping_address = models.JSONField(default=dict, blank=True)
    lines = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    shipping_method = models.CharField(
        max_length=100, blank=True, default="", help_text="carrier:service code, or blank"
    )
    shipping_total = MoneyField(default=Decimal("0"))
    financial_status = models.CharField(
        max_length=16, choices=Payment.choices, default=Payment.PENDING
    )
    payment_method = models.CharField(max_length=64, blank=True, default="")
    payment_reference = models.CharField(max_length=128, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    placed_order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="draft"
    )
    placed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(
                fields=["-updated_at"], condition=Q(placed_order=None), name="orderdraft_open"
            )
        ]

    def __str__(self) -> str:
        return f"draft {self.pk}"

    @property
    def external_id(self) -> str:
        """The placed order's id on its channel: placing the draft twice (a double
        click, two managers) finds the same order."""
        return f"DRAFT-{self.pk}"


# The channel intake log (intake.inbound): moved here from the oms app, tables unchanged.


class IntakeDelivery(models.Model):
    """A webhook received from a sales platform on a channel's intake endpoint, kept as
    received (raw body, the platform's headers) for audit and re-processing. Deduplicated
    by the platform's delivery id when it sends one."""

    class Platform(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        IGNORED = "ignored", "Ignored"

    channel = models.ForeignKey(
        "orders.Channel", on_delete=models.PROTECT, related_name="intake_deliveries"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    topic = models.CharField(max_length=64, blank=True, default="")
    delivery_id = models.CharField(max_length=128, blank=True, default="")
    external_id = models.CharField(max_length=128, blank=True, default="")
    source_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The order's last change on the platform"
    )
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROCESSED, db_index=True
    )
    message = models.TextField(blank=True, default="")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="intake_deliveries",
    )
    duplicates = models.PositiveIntegerField(default=0, help_text="Repeated deliveries ignored")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "oms_intakedelivery"  # born in the oms app; the table keeps its name
        ordering = ["-id"]
        verbose_name_plural = "intake deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform", "delivery_id"],
                condition=~models.Q(delivery_id=""),
                name="intakedelivery_delivery_id_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["channel", "platform", "external_id"], name="intakedelivery_order_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.topic} {self.external_id or '?'} #{self.pk}"


class IntakeSecretRotation(models.Model):
    """When a channel's intake secret last changed and the one it replaced, which stays
    valid for ``OMS_INTAKE_SECRET_GRACE_HOURS`` while the platform is updated."""

    channel = models.OneToOneField(
        "orders.Channel", on_delete=models.CASCADE, related_name="intake_secret_rotation"
    )
    previous_secret = models.CharField(max_length=128, blank=True, default="")
    rotated_at = models.DateTimeField(default=timezone.now)
    rotated_by = models.CharField(max_length=150, default="system")

    class Meta:
        db_table = "oms_intakesecretrotation"  # born in the oms app; the table keeps its name

    def __str__(self) -> str:
        return f"{self.channel_id} rotated {self.rotated_at:%Y-%m-%d %H:%M}"
