from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import Warehouse
from orders.models import MoneyField, Order, OrderLine


class PickList(models.Model):
    """A wave: several shipments of one warehouse picked in one walk."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("pick list status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

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
        EASYPARCEL = "easyparcel", "EasyParcel (open API 2025-09)"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TABLE_RATE)
    base_url = models.URLField(blank=True, default="")
    api_key = models.CharField(max_length=255, blank=True, default="")
    # OAuth 2.0 clients (EasyParcel): the app's credentials from the courier's developer
    # hub; the tokens live in CarrierToken.
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret = models.CharField(max_length=255, blank=True, default="")
    # The secret part of the URL we register for the courier's webhooks
    # (/api/v1/carriers/<code>/webhooks/<secret>/).
    webhook_secret = models.CharField(max_length=64, blank=True, default="")
    tracking_url_template = models.CharField(
        max_length=255, blank=True, default="", help_text="e.g. https://c.example/t/{tracking}"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def tracking_url(self, tracking_number: str) -> str:
        """The carrier's public tracking page for ``tracking_number`` ("" when unknown or
        not an http(s) address)."""
        if not (self.tracking_url_template and tracking_number):
            return ""
        url = self.tracking_url_template.replace("{tracking}", tracking_number)
        return url if url.startswith(("https://", "http://")) else ""


class CarrierToken(models.Model):
    """A carrier's OAuth 2.0 tokens. One row per carrier; refreshed before it expires,
    under a row lock so that two workers never refresh at once (a refresh token is
    single use: the second refresh would be refused)."""

    carrier = models.OneToOneField(Carrier, on_delete=models.CASCADE, related_name="token")
    access_token = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = models.TextField(blank=True, default="")
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.carrier_id}"


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
    price = MoneyField()
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
        ALLOCATED = "allocated", _("Allocated")
        PICKING = "picking", _("Picking")
        PICKED = "picked", _("Picked")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

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
    shipping_cost = MoneyField(null=True, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    # The package as packed (recorded at the pack station; used for rate quotes).
    length_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    # The carrier's label as booked (PDF); blank until booked through a carrier adapter.
    label_pdf = models.FileField(upload_to="labels/%Y/%m/", blank=True, default="")
    # The carrier's own number for the booking (EasyParcel: ES-YYMM-XXXXX), for voids.
    carrier_reference = models.CharField(max_length=255, blank=True, default="")
    label_url = models.URLField(max_length=500, blank=True, default="")
    # Set while a booking is with the carrier (a second booking waits or is refused).
    booking_started_at = models.DateTimeField(null=True, blank=True)
    manifest = models.ForeignKey(
        "Manifest", on_delete=models.SET_NULL, null=True, blank=True, related_name="shipments"
    )
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


class ShipmentParcel(models.Model):
    """One box of a shipment that goes in several (the first box is parcel 1). A
    shipment without parcel rows is one box with the shipment's own weight and size."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    sequence = models.PositiveIntegerField()
    weight_grams = models.PositiveIntegerField()
    length_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True, default="", db_index=True)
    carrier_reference = models.CharField(max_length=255, blank=True, default="")
    label_pdf = models.FileField(upload_to="labels/%Y/%m/", blank=True, default="")

    class Meta:
        ordering = ["shipment_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "sequence"], name="parcel_unique_seq"),
            models.CheckConstraint(condition=Q(weight_grams__gt=0), name="parcel_weight_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} box {self.sequence}"


class Manifest(models.Model):
    """End of day: the parcels one carrier collects from one point, handed over and
    listed on one sheet (and, where the carrier has one, its pickup request)."""

    number = models.CharField(max_length=20, unique=True)
    carrier = models.CharField(max_length=64)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="manifests")
    pickup_reference = models.CharField(max_length=255, blank=True, default="")
    pickup_note = models.CharField(max_length=255, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


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
        WEBHOOK = "webhook", "Read back after the carrier's webhook"

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
