"""Shipments, their lines, parcels and tracking events, carrier tokens and manifests."""

from collections import defaultdict

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html_join

from fulfillment import documents, services
from fulfillment.document_views import pdf_response
from fulfillment.models import (
    CarrierToken,
    Manifest,
    Shipment,
    ShipmentLine,
    ShipmentParcel,
    TrackingEvent,
)
from fulfillment.services import booking
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    ViewOnlyAdminMixin,
    call_in_own_transaction,
    run_action,
    save_changed_fields,
)
from kernel.exceptions import DomainError

# --------------------------------------------------------------------------- shipments


class ShipmentLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ShipmentLine
    fields = ["sku", "name", "quantity", "quantity_picked", "quantity_packed"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description="SKU")
    def sku(self, line):
        return line.order_line.sku

    @admin.display(description="name")
    def name(self, line):
        return line.order_line.name


SHIPMENT_READONLY = [
    "number",
    "order",
    "warehouse",
    "status",
    "pick_list",
    "created_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "document_links",
]


def _links(*pairs: tuple[str, str]) -> str:
    return format_html_join(" | ", '<a href="{}" target="_blank">{}</a>', pairs)


@admin.register(TrackingEvent)
class TrackingEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Carrier scans, as pushed to the API or polled; written only by the tracking
    service."""

    list_display = ["shipment", "code", "occurred_at", "description", "location", "source"]
    list_select_related = ["shipment"]
    list_filter = ["code", "source"]
    search_fields = ["shipment__number", "shipment__tracking_number", "shipment__order__number"]
    date_hierarchy = "occurred_at"


class TrackingEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = TrackingEvent
    fields = ["occurred_at", "code", "description", "location", "source", "created_at"]
    readonly_fields = fields
    show_change_link = False


class ShipmentParcelInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ShipmentParcel
    fields = [
        "sequence",
        "weight_grams",
        "length_cm",
        "width_cm",
        "height_cm",
        "tracking_number",
        "carrier_reference",
    ]
    readonly_fields = fields
    extra = 0


@admin.register(ShipmentParcel)
class ShipmentParcelAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The boxes of shipments that go in several; written by the booking services."""

    list_display = ["shipment", "sequence", "weight_grams", "tracking_number"]
    list_select_related = ["shipment"]
    search_fields = ["shipment__number", "tracking_number"]


@admin.register(CarrierToken)
class CarrierTokenAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """When each carrier's OAuth tokens expire and were refreshed (the tokens themselves
    are not shown); written by the adapters and ``manage.py easyparcel_authorize``."""

    list_display = ["carrier", "expires_at", "refresh_expires_at", "refreshed_at"]
    list_select_related = ["carrier"]
    fields = ["carrier", "expires_at", "refresh_expires_at", "refreshed_at"]
    search_fields = ["carrier__code"]


@admin.register(Manifest)
class ManifestAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "carrier", "warehouse", "created_at", "created_by", "pdf"]
    list_filter = ["carrier", "warehouse"]
    list_select_related = ["warehouse"]
    search_fields = ["number", "shipments__number", "shipments__tracking_number"]
    date_hierarchy = "created_at"

    @admin.display(description="PDF")
    def pdf(self, manifest):
        return _links((reverse("documents:manifest", args=[manifest.number]), "Manifest"))


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "order",
        "warehouse",
        "status",
        "pick_list",
        "carrier",
        "service",
        "tracking_number",
        "created_at",
        "shipped_at",
        "delivered_at",
    ]
    list_select_related = ["order", "warehouse", "pick_list"]
    list_filter = ["status", "warehouse", "carrier"]
    search_fields = ["number", "order__number", "tracking_number"]
    date_hierarchy = "created_at"
    readonly_fields = SHIPMENT_READONLY
    fieldsets = [
        (None, {"fields": [("number", "order"), ("warehouse", "status"), "pick_list"]}),
        (
            "Carrier",
            {
                "fields": [
                    ("carrier", "service"),
                    "tracking_number",
                    ("shipping_cost", "weight_grams"),
                    ("length_cm", "width_cm", "height_cm"),
                    "estimated_delivery",
                    "document_links",
                ]
            },
        ),
        (
            "History",
            {"fields": [("created_at", "shipped_at"), ("delivered_at", "cancelled_at")]},
        ),
    ]
    inlines = [ShipmentLineInline, ShipmentParcelInline, TrackingEventInline]
    actions = [
        "create_pick_list",
        "book_and_ship_shipments",
        "void_labels",
        "ship_shipments",
        "deliver_shipments",
        "cancel_shipments",
        "print_packing_slips",
        "print_labels",
    ]

    @admin.display(description="documents")
    def document_links(self, shipment):
        if shipment is None or not shipment.pk:
            return "-"
        pairs = [
            (reverse("documents:shipment-packing-slip", args=[shipment.number]), "Packing slip")
        ]
        if shipment.tracking_number or shipment.label_pdf:
            pairs.append((reverse("documents:shipment-label", args=[shipment.number]), "Label"))
        return _links(*pairs)

    @admin.action(
        description="Book a carrier and ship selected shipments (rate shopping)",
        permissions=["change"],
    )
    def book_and_ship_shipments(self, request, queryset):
        """Packed shipments: the cheapest service that meets the promised date, booked,
        labelled and shipped; a shipment without a rate stays packed (and is named)."""
        run_action(
            self,
            request,
            queryset.select_related("order", "warehouse"),
            lambda shipment: booking.shipment_book_and_ship(shipment=shipment, actor=request.user),
            done="Booked and shipped",
        )

    @admin.action(
        description="Void the labels of selected shipments (before hand-over)",
        permissions=["change"],
    )
    def void_labels(self, request, queryset):
        """Cancels with the carrier where its API allows; a shipped one is refused."""
        run_action(
            self,
            request,
            queryset.select_related("order", "warehouse"),
            lambda shipment: booking.shipment_void_label(
                shipment=shipment, reason="voided in the admin", actor=request.user
            ),
            done="Label voided",
        )

    @admin.action(description="Print packing slips of selected shipments (one PDF)")
    def print_packing_slips(self, request, queryset):
        try:
            pdf = documents.render_packing_slip_pdf(queryset.order_by("pk"))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return pdf_response(pdf, "packing-slips.pdf", inline=False)

    @admin.action(description="Print labels of selected shipments (one PDF)")
    def print_labels(self, request, queryset):
        labels, missing = [], []
        for shipment in queryset.select_related("order", "warehouse").order_by("pk"):
            try:
                labels.append(documents.render_label_pdf(shipment))
            except DomainError:
                missing.append(shipment.number)
        if missing:
            self.message_user(
                request, f"No label yet (not booked): {', '.join(missing)}", messages.WARNING
            )
        if not labels:
            return None
        return pdf_response(documents.merge_pdfs(labels), "labels.pdf", inline=False)

    def has_add_permission(self, request):
        # Shipments are created by allocation (confirming an order), with their number.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        save_changed_fields(obj, form, change)

    @admin.action(description="Ship selected shipments", permissions=["change"])
    def ship_shipments(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda shipment: services.shipment_ship(shipment=shipment, actor=request.user),
            done="Shipped",
        )

    @admin.action(description="Mark selected shipments delivered", permissions=["change"])
    def deliver_shipments(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda shipment: services.shipment_deliver(shipment=shipment, actor=request.user),
            done="Delivered",
        )

    @admin.action(description="Cancel selected shipments", permissions=["change"])
    def cancel_shipments(self, request, queryset):
        """Reserved stock is released; the units go back to backordered on the order."""
        reason = f"cancelled in the admin by {request.user.get_username()}"
        run_action(
            self,
            request,
            queryset,
            lambda shipment: services.shipment_cancel(
                shipment=shipment, reason=reason, actor=request.user
            ),
            done="Cancelled",
        )

    @admin.action(description="Create pick lists for selected shipments", permissions=["change"])
    def create_pick_list(self, request, queryset):
        """One pick list (wave) per warehouse among the selected shipments."""
        by_warehouse = defaultdict(list)
        for shipment in queryset.select_related("warehouse", "order").order_by("pk"):
            by_warehouse[shipment.warehouse].append(shipment)
        for warehouse, shipments in sorted(by_warehouse.items(), key=lambda kv: kv[0].pk):
            names = ", ".join(s.number for s in shipments)
            try:
                pick_list = call_in_own_transaction(
                    services.pick_list_create,
                    warehouse=warehouse,
                    shipments=shipments,
                    actor=request.user,
                )
            except DomainError as exc:
                self.message_user(request, f"{warehouse.code}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Created {pick_list.number} at {warehouse.code}: {names}",
                    messages.SUCCESS,
                )


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shipment", "order_line", "quantity", "quantity_picked", "quantity_packed"]
    list_select_related = ["shipment", "order_line"]
    list_filter = ["shipment__status", "shipment__warehouse"]
    search_fields = ["shipment__number", "shipment__order__number", "order_line__sku"]
    fields = ["shipment", "order_line", "quantity", "quantity_picked", "quantity_packed"]
    readonly_fields = fields
