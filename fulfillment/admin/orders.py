"""The order admin completed by fulfillment: the shipments inline and the stock-routing actions."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from fulfillment import services
from fulfillment.models import (
    Shipment,
)
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    run_action,
    run_reason_action,
)
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
