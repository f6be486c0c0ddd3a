"""Admin for shipments, pick lists and carriers; and the order actions that route stock.

Shipments and pick lists are created by allocation and picking services, never in the
admin; statuses and quantities are read-only and change through actions. Carriers,
their services and rates are plain master data.

Fulfillment sits above orders, so this module completes the order admin: it registers
``FulfillmentOrderAdmin`` (``orders.admin.OrderAdmin`` plus the shipments inline and the
confirm / release / cancel actions, which allocate or release stock).
"""

from collections import defaultdict

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from fulfillment import documents, services
from fulfillment.document_views import pdf_response
from fulfillment.models import (
    Carrier,
    CarrierService,
    CarrierToken,
    Manifest,
    PickList,
    Shipment,
    ShipmentLine,
    ShipmentParcel,
    ShippingRate,
    TrackingEvent,
)
from fulfillment.resources import ShippingRateResource
from fulfillment.services import booking
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    ViewOnlyAdminMixin,
    call_in_own_transaction,
    run_action,
    run_reason_action,
    save_changed_fields,
)
from kernel.csv_admin import CsvImportExportAdmin
from kernel.exceptions import DomainError
from orders.admin import OrderAdmin, OrderEventInline, OrderLineInline
from orders.models import Order

# --------------------------------------------------------------------------- orders


class OrderShipmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Shipment
    fields = [
        "number",
        "warehouse",
        "status",
        "pick_list",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("warehouse", "pick_list")


class FulfillmentOrderAdmin(OrderAdmin):
    inlines = [OrderLineInline, OrderShipmentInline, OrderEventInline]
    change_form_template = "admin/orders/order/change_form.html"

    def get_urls(self):
        preview = path(
            "<path:object_id>/routing-preview/",
            self.admin_site.admin_view(self.routing_preview_view),
            name="orders_order_routing_preview",
        )
        return [preview, *super().get_urls()]

    def routing_preview_view(self, request, object_id):
        """Dry run: what every routing strategy would do for this order, reserving nothing."""
        order = self.get_object(request, object_id)
        if order is None or not self.has_view_permission(request, order):
            raise Http404("No such order")
        scope = request.GET.get("scope")
        whole = {"open": True, "backordered": False}.get(scope or "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "title": f"Routing preview for {order.number}",
            "preview": services.route_preview(order, whole_order=whole),
        }
        return TemplateResponse(request, "admin/orders/order/routing_preview.html", context)

    actions = ["confirm_orders", "hold_orders", "release_orders", "cancel_orders", "mark_paid"]

    @admin.action(description="Confirm and allocate selected orders", permissions=["change"])
    def confirm_orders(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda order: services.order_confirm_and_allocate(order=order, actor=request.user),
            done="Confirmed",
        )

    @admin.action(description="Release hold on selected orders", permissions=["change"])
    def release_orders(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda order: services.order_release_and_allocate(order=order, actor=request.user),
            done="Released",
        )

    @admin.action(description="Cancel selected orders…", permissions=["change"])
    def cancel_orders(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            lambda order, reason: services.order_cancel_and_release(
                order=order, reason=reason, actor=request.user
            ),
            action="cancel_orders",
            title="Cancel orders",
            submit="Cancel orders",
            intro="Open shipments are cancelled and their reserved stock released. "
            "Orders with anything shipped cannot be cancelled.",
            done="Cancelled",
        )


admin.site.unregister(Order)
admin.site.register(Order, FulfillmentOrderAdmin)


# --------------------------------------------------------------------------- carriers


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    fields = ["code", "name", "active"]
    extra = 0
    show_change_link = True


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    fields = [
        "country",
        "region",
        "min_weight_grams",
        "max_weight_grams",
        "price",
        "currency",
        "transit_days",
    ]
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["code"]
    list_display = ["code", "name", "kind", "service_count", "active"]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "active"]}),
        (
            "Integration",
            {"fields": ["base_url", "api_key", "tracking_url_template"], "classes": ["collapse"]},
        ),
        (
            "OAuth 2.0 (EasyParcel)",
            {
                "fields": ["client_id", "client_secret", "webhook_secret", "token_state"],
                "classes": ["collapse"],
                "description": "The app's credentials from EasyParcel's developer hub. "
                "Authorize once with manage.py easyparcel_authorize; the webhook URL to "
                "register is /api/v1/carriers/&lt;code&gt;/webhooks/&lt;webhook secret&gt;/.",
            },
        ),
    ]
    readonly_fields = ["token_state"]
    inlines = [CarrierServiceInline]

    @admin.display(description="token")
    def token_state(self, carrier):
        token = CarrierToken.objects.filter(carrier_id=carrier.pk).first() if carrier.pk else None
        if token is None or not token.refresh_token:
            return "not authorized"
        if token.expires_at:
            return f"access token valid until {token.expires_at:%Y-%m-%d %H:%M} UTC"
        return "authorized (access token fetched on first use)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "base_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(services_count=Count("services"))

    @admin.display(description="services", ordering="services_count")
    def service_count(self, carrier):
        return carrier.services_count


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["carrier__code", "code"]
    list_display = ["__str__", "carrier", "code", "name", "rate_count", "active"]
    list_select_related = ["carrier"]
    list_filter = ["carrier", "active"]
    search_fields = ["code", "name", "carrier__code", "carrier__name"]
    inlines = [ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rates_count=Count("rates"))

    @admin.display(description="rates", ordering="rates_count")
    def rate_count(self, service):
        return service.rates_count


@admin.register(ShippingRate)
class ShippingRateAdmin(CsvImportExportAdmin):
    """Rate tables; import and export as CSV keyed by carrier, service, country, region
    and weight band (``fulfillment.resources``)."""

    resource_classes = [ShippingRateResource]
    list_display = [
        "service",
        "country",
        "region",
        "min_weight_grams",
        "max_weight_grams",
        "price",
        "currency",
        "transit_days",
    ]
    list_select_related = ["service__carrier"]
    list_filter = ["service__carrier", "country", "currency"]
    search_fields = ["service__code", "service__carrier__code", "country", "region"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service":
            kwargs["queryset"] = CarrierService.objects.select_related("carrier")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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


# --------------------------------------------------------------------------- pick lists


class PickListShipmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Shipment
    fields = ["number", "order", "status", "tracking_number"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")


@admin.register(PickList)
class PickListAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["-created_at", "-id"]
    list_display = [
        "number",
        "warehouse",
        "status",
        "assigned_to",
        "shipment_count",
        "created_at",
        "completed_at",
    ]
    list_select_related = ["warehouse", "assigned_to"]
    list_filter = ["status", "warehouse"]
    search_fields = ["number", "shipments__number", "shipments__order__number"]
    date_hierarchy = "created_at"
    fields = [
        "number",
        "warehouse",
        "status",
        "assigned_to",
        "created_at",
        "completed_at",
        "document_links",
    ]
    readonly_fields = [
        "number",
        "warehouse",
        "status",
        "created_at",
        "completed_at",
        "document_links",
    ]
    inlines = [PickListShipmentInline]

    @admin.display(description="documents")
    def document_links(self, pick_list):
        if pick_list is None or not pick_list.pk:
            return "-"
        return _links(
            (reverse("documents:pick-list", args=[pick_list.number]), "Pick list"),
            (
                reverse("documents:pick-list-packing-slips", args=[pick_list.number]),
                "Packing slips",
            ),
        )

    actions = ["complete_pick_lists"]

    def has_add_permission(self, request):
        # Pick lists are created from shipments (Shipments > Create pick lists).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shipments_count=Count("shipments"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        save_changed_fields(obj, form, change)

    @admin.display(description="shipments", ordering="shipments_count")
    def shipment_count(self, pick_list):
        return pick_list.shipments_count

    @admin.action(description="Complete selected pick lists (all picked)", permissions=["change"])
    def complete_pick_lists(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda pick_list: services.pick_list_complete(pick_list=pick_list, actor=request.user),
            done="Completed",
        )
