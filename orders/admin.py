"""Admin for channels, customers, orders, order lines and the order timeline.

Orders are created by intake (API, CSV, webhooks), never in the admin; their number,
money and the four states are read-only, and state changes are admin actions calling
services. The actions that also allocate or release stock (confirm, release, cancel)
and the shipments inline belong to fulfillment, a higher layer: ``fulfillment.admin``
registers a subclass of ``OrderAdmin`` that adds them.
"""

from django.contrib import admin
from django.db.models import Count

from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    ViewOnlyAdminMixin,
    run_action,
    run_reason_action,
    save_changed_fields,
)
from kernel.csv_admin import CsvImportExportAdmin
from orders import services
from orders.models import Channel, Customer, Order, OrderEvent, OrderLine, Payment
from orders.resources import OrderResource

ADDRESS_FIELDS = [
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "ship_phone",
]
# Past these states the address and customer are history, not something to correct.
CLOSED_STATUSES = {Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.CANCELLED}


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """The channel's own settings; intake/admin.py adds its webhook and sync settings."""

    list_display = [
        "code",
        "name",
        "kind",
        "auto_confirm",
        "handling_days",
        "routing_strategy",
        "active",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "active", "auto_confirm", "routing_strategy"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "active"]}),
        ("Fulfillment", {"fields": ["auto_confirm", "handling_days", "routing_strategy"]}),
        (
            "Auto-confirm rules",
            {
                "fields": [
                    "auto_confirm_require_payment",
                    "auto_confirm_max_total",
                    "auto_confirm_max_quantity",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.orders.exists():
            fields.append("code")  # part of the intake URLs: fixed once orders exist
        return fields


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["email"]
    list_display = ["email", "name", "phone", "order_count", "blocked", "created_at"]
    list_filter = ["blocked"]
    search_fields = ["email", "name", "phone"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(orders_count=Count("orders"))

    @admin.display(description="orders", ordering="orders_count")
    def order_count(self, customer):
        return customer.orders_count


class OrderLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "quantity",
        "unit_price",
        "discount_total",
        "line_total",
        "quantity_allocated",
        "quantity_shipped",
        "quantity_cancelled",
        "quantity_returned",
        "backordered",
    ]
    readonly_fields = fields

    @admin.display(description="paid")
    def line_total(self, line):
        return line.paid_total

    @admin.display(description="backordered")
    def backordered(self, line):
        return line.quantity_backordered if line.order.status == Order.Status.CONFIRMED else 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")


class PaymentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Payments are recorded through orders.services.payment_record (API, intake)."""

    model = Payment
    fields = ["created_at", "kind", "amount", "currency", "method", "reference", "actor"]
    readonly_fields = fields
    show_change_link = False


class OrderEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = OrderEvent
    fields = ["created_at", "kind", "message", "actor", "public"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "timeline"


@admin.register(Order)
class OrderAdmin(CsvImportExportAdmin):
    resource_classes = [OrderResource]
    list_display = [
        "number",
        "placed_at",
        "channel",
        "customer",
        "status",
        "allocation_status",
        "fulfillment_status",
        "financial_status",
        "order_total",
        "ship_by",
    ]
    list_select_related = ["channel", "customer"]
    list_filter = [
        "status",
        "allocation_status",
        "fulfillment_status",
        "financial_status",
        "channel",
        "currency",
        "at_risk",
        "late",
    ]
    search_fields = [
        "number",
        "external_id",
        "customer__email",
        "customer__name",
        "ship_name",
        "lines__sku",
    ]
    date_hierarchy = "placed_at"
    autocomplete_fields = ["customer"]
    readonly_fields = [
        "number",
        "channel",
        "external_id",
        "placed_at",
        "confirmed_at",
        "status",
        "hold_reason",
        "cancel_reason",
        "allocation_status",
        "fulfillment_status",
        "financial_status",
        "currency",
        "subtotal",
        "discount_total",
        "shipping_total",
        "tax_total",
        "total",
        "refunded_total",
        "tracking_token",
        "created_at",
        "updated_at",
        "at_risk",
        "at_risk_reason",
        "at_risk_since",
        "projected_ship_date",
        "late",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "channel", "external_id"),
                    "customer",
                    ("placed_at", "confirmed_at", "ship_by"),
                ]
            },
        ),
        (
            "Status",
            {
                "fields": [
                    ("status", "hold_reason", "cancel_reason"),
                    ("allocation_status", "fulfillment_status", "financial_status"),
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    ("subtotal", "discount_total", "shipping_total", "tax_total", "total"),
                    "refunded_total",
                ]
            },
        ),
        (
            "Delays",
            {
                "fields": [
                    ("at_risk", "at_risk_since", "projected_ship_date", "late"),
                    "at_risk_reason",
                ]
            },
        ),
        ("Shipping address", {"fields": ADDRESS_FIELDS}),
        ("Notes", {"fields": ["notes"]}),
        (
            "Tracking and history",
            {"fields": ["tracking_token", "created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    actions = ["hold_orders", "mark_paid"]

    def has_add_permission(self, request):
        # Orders come in through intake (services.order_place), with their number.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status in CLOSED_STATUSES:
            readonly += ["customer", "ship_by", *ADDRESS_FIELDS]
        return readonly

    def save_model(self, request, obj, form, change):
        fields = save_changed_fields(obj, form, change)
        if change and fields:
            services.order_add_event(
                order=obj,
                kind=OrderEvent.Kind.EDITED,
                message="Edited in the admin: " + ", ".join(fields),
                data={"fields": fields},
                actor=request.user,
            )

    @admin.display(description="total", ordering="total")
    def order_total(self, order):
        return f"{order.total} {order.currency}"

    # ------------------------------------------------------------------ actions

    @admin.action(description="Hold selected orders…", permissions=["change"])
    def hold_orders(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            lambda order, reason: services.order_hold(
                order=order, reason=reason, actor=request.user
            ),
            action="hold_orders",
            title="Hold orders",
            submit="Hold",
            intro="Held orders keep their reservations but nothing ships until released.",
            done="Held",
        )

    @admin.action(description="Mark selected orders paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda order: services.order_mark_paid(order=order, actor=request.user),
            done="Marked paid",
        )


@admin.register(OrderLine)
class OrderLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "quantity_allocated",
        "quantity_shipped",
        "quantity_cancelled",
        "quantity_returned",
    ]
    list_select_related = ["order"]
    list_filter = ["order__status"]
    search_fields = ["order__number", "sku", "name"]
    fields = [
        "order",
        "product",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "discount_total",
        "quantity_allocated",
        "quantity_shipped",
        "quantity_cancelled",
        "quantity_returned",
    ]
    readonly_fields = fields


@admin.register(OrderEvent)
class OrderEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The order timeline is append-only: services write it."""

    list_display = ["created_at", "order", "kind", "message", "actor", "public"]
    list_select_related = ["order"]
    list_filter = ["kind", "public"]
    search_fields = ["order__number", "message", "actor"]
    date_hierarchy = "created_at"
    fields = ["order", "created_at", "kind", "message", "data", "actor", "public"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Payment transactions: recorded by orders.services.payment_record (the API's
    payments action, placement as paid, channel intake), never edited."""

    list_display = ["created_at", "order", "kind", "amount", "currency", "method", "reference"]
    list_select_related = ["order"]
    list_filter = ["kind", "currency"]
    search_fields = ["order__number", "reference", "method"]
    date_hierarchy = "created_at"
    fields = [
        "order",
        "created_at",
        "kind",
        "amount",
        "currency",
        "method",
        "reference",
        "actor",
    ]
    readonly_fields = fields
