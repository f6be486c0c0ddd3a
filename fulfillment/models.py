from django.conf import settings
from django.db import models
from django.db.models import F, Q

from inventory.models import Warehouse
from orders.models import Order, OrderLine


class PickList(models.Model):
    """A wave: several shipments of one warehouse picked in one walk."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="pick_lists")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pick_lists",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


PL = PickList.Status
PICK_LIST_TRANSITIONS: dict[str, set[str]] = {
    PL.OPEN: {PL.IN_PROGRESS, PL.DONE, PL.CANCELLED},
    PL.IN_PROGRESS: {PL.DONE, PL.CANCELLED},
    PL.DONE: set(),
    PL.CANCELLED: set(),
}
del PL


class Carrier(models.Model):
    class Kind(models.TextChoices):
        TABLE_RATE = "table_rate", "Table rates (built in)"
        HTTP = "http", "HTTP courier API"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TABLE_RATE)
    base_url = models.URLField(blank=True, default="")
    api_key = models.CharField(max_length=255, blank=True, default="")
    tracking_url_template = models.CharField(
        max_length=255, blank=True, default="", help_text="e.g. https://c.example/t/{tracking}"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class CarrierService(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="services")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=128)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="carrierservice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code}/{self.code}"


class ShippingRate(models.Model):
    service = models.ForeignKey(CarrierService, on_delete=models.CASCADE, related_name="rates")
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=64, blank=True, default="", help_text="Blank: any")
    min_weight_grams = models.PositiveIntegerField(default=0)
    max_weight_grams = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    transit_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["service_id", "country", "region", "min_weight_grams"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_weight_grams__gt=F("min_weight_grams")),
                name="shippingrate_weight_band",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="shippingrate_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.country}/{self.region or '*'} <{self.max_weight_grams}g"


class Shipment(models.Model):
    """A fulfillment order: what one point ships for one order."""

    class Status(models.TextChoices):
        ALLOCATED = "allocated", "Allocated"
        PICKING = "picking", "Picking"
        PICKED = "picked", "Picked"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ALLOCATED, db_index=True
    )
    pick_list = models.ForeignKey(
        PickList, on_delete=models.SET_NULL, null=True, blank=True, related_name="shipments"
    )
    carrier = models.CharField(max_length=64, blank=True, default="")
    service = models.CharField(max_length=64, blank=True, default="")
    tracking_number = models.CharField(max_length=64, blank=True, default="", db_index=True)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    # The package as packed (recorded at the pack station; used for rate quotes).
    length_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    # The carrier's label as booked (PDF); blank until booked through a carrier adapter.
    label_pdf = models.FileField(upload_to="labels/%Y/%m/", blank=True, default="")
    estimated_delivery = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["warehouse", "status"], name="shipment_wh_status_idx")]

    def __str__(self) -> str:
        return self.number


SH = Shipment.Status
SHIPMENT_TRANSITIONS: dict[str, set[str]] = {
    SH.ALLOCATED: {SH.PICKING, SH.PICKED, SH.PACKED, SH.SHIPPED, SH.CANCELLED},
    SH.PICKING: {SH.PICKED, SH.PACKED, SH.SHIPPED, SH.CANCELLED, SH.ALLOCATED},
    SH.PICKED: {SH.PACKED, SH.SHIPPED, SH.CANCELLED},
    SH.PACKED: {SH.SHIPPED, SH.CANCELLED},
    SH.SHIPPED: {SH.DELIVERED},
    SH.DELIVERED: set(),
    SH.CANCELLED: set(),
}
OPEN_SHIPMENT_STATUSES = (SH.ALLOCATED, SH.PICKING, SH.PICKED, SH.PACKED)
del SH


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()
    quantity_picked = models.PositiveIntegerField(default=0)
    quantity_packed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["shipment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_picked__lte=F("quantity")), name="shipmentline_picked_lte_qty"
            ),
            models.CheckConstraint(
                condition=Q(quantity_packed__lte=F("quantity_picked")),
                name="shipmentline_packed_lte_picked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}:{self.order_line_id}x{self.quantity}"


class TrackingEvent(models.Model):
    """A carrier scan of a shipment (pushed to the API or polled from the carrier).

    Keyed by (shipment, code, occurred_at): a repeated event is the same row, so carriers
    may resend and pollers may re-read without effect."""

    class Code(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        EXCEPTION = "exception", "Exception"

    class Source(models.TextChoices):
        API = "api", "Pushed to the API"
        POLL = "poll", "Polled from the carrier"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="tracking_events")
    code = models.CharField(max_length=20, choices=Code.choices)
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=255, blank=True, default="")
    location = models.CharField(max_length=128, blank=True, default="")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "code", "occurred_at"], name="trackingevent_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.code} {self.occurred_at:%Y-%m-%d %H:%M}"
