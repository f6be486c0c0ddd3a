"""Admin for return requests (RMAs), their lines and refunds.

Returns are requested through the API or the staff pages (``returns.services``), never
added here; every field the workflow owns is read-only, and the workflow moves through
the approve / reject / receive / refund / close actions. Refunds are written only by
services: listed and shown, never added, changed or deleted.
"""

from django.contrib import admin
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import format_html

from fulfillment.document_views import pdf_response
from fulfillment.documents import merge_pdfs
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    ViewOnlyAdminMixin,
    run_action,
    run_reason_action,
    save_changed_fields,
)
from returns import services
from returns.documents import render_return_slip_pdf
from returns.models import ExchangePolicy, Refund, ReturnLine, ReturnRequest


class ReturnLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ReturnLine
    fields = [
        "sku",
        "quantity",
        "reason",
        "customer_comment",
        "quantity_received",
        "condition",
        "disposition",
        "restock_warehouse",
        "replacement_product",
        "replacement_quantity",
    ]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("order_line", "restock_warehouse", "replacement_product")
        )

    @admin.display(description="SKU")
    def sku(self, line):
        return line.order_line.sku


class RefundInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Refund
    fields = ["created_at", "amount", "currency", "reference", "actor"]
    readonly_fields = fields


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["-created_at", "-id"]
    list_display = [
        "number",
        "order",
        "status",
        "units",
        "created_at",
        "approved_at",
        "received_at",
        "closed_at",
    ]
    list_select_related = ["order"]
    list_filter = ["status", "lines__reason"]
    search_fields = ["number", "order__number", "order__customer__email", "lines__order_line__sku"]
    date_hierarchy = "created_at"
    fields = [
        "number",
        "order",
        "status",
        "reject_reason",
        "created_at",
        "approved_at",
        "received_at",
        "closed_at",
        "replacement_order",
        "return_slip",
    ]
    readonly_fields = fields
    inlines = [ReturnLineInline, RefundInline]
    actions = [
        "approve_returns",
        "reject_returns",
        "receive_returns",
        "refund_returns",
        "close_returns",
        "print_return_slips",
    ]

    @admin.display(description="return slip")
    def return_slip(self, rma):
        if rma is None or not rma.pk:
            return "-"
        url = reverse("return_documents:return-slip", args=[rma.number])
        return format_html('<a href="{}" target="_blank">Return slip (PDF)</a>', url)

    @admin.action(description="Print return slips of selected returns (one PDF)")
    def print_return_slips(self, request, queryset):
        slips = [render_return_slip_pdf(rma) for rma in queryset.order_by("pk")]
        return pdf_response(merge_pdfs(slips), "return-slips.pdf", inline=False)

    def has_add_permission(self, request):
        # Returns are requested through services.return_request, with their number.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(units_requested=Sum("lines__quantity"))

    def save_model(self, request, obj, form, change):
        save_changed_fields(obj, form, change)

    @admin.display(description="units", ordering="units_requested")
    def units(self, rma):
        return rma.units_requested

    @admin.action(description="Approve selected returns", permissions=["change"])
    def approve_returns(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda rma: services.return_approve(return_request=rma, actor=request.user),
            done="Approved",
        )

    @admin.action(description="Reject selected returns…", permissions=["change"])
    def reject_returns(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            lambda rma, reason: services.return_reject(
                return_request=rma, reason=reason, actor=request.user
            ),
            action="reject_returns",
            title="Reject returns",
            submit="Reject",
            done="Rejected",
        )

    @admin.action(
        description="Receive selected returns in full (restock where shipped)",
        permissions=["change"],
    )
    def receive_returns(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda rma: services.return_receive(return_request=rma, actor=request.user),
            done="Received",
        )

    @admin.action(
        description="Refund selected returns (value of what came back)", permissions=["change"]
    )
    def refund_returns(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda rma: services.return_refund(return_request=rma, actor=request.user),
            done="Refunded",
        )

    @admin.action(description="Close selected returns", permissions=["change"])
    def close_returns(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda rma: services.return_close(return_request=rma, actor=request.user),
            done="Closed",
        )


@admin.register(ReturnLine)
class ReturnLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "return_request",
        "order_line",
        "quantity",
        "reason",
        "quantity_received",
        "condition",
        "disposition",
        "restock_warehouse",
    ]
    list_select_related = ["return_request", "order_line", "restock_warehouse"]
    list_filter = ["reason", "condition", "disposition", "return_request__status"]
    search_fields = ["return_request__number", "order_line__sku", "customer_comment"]
    fields = [
        "return_request",
        "order_line",
        "quantity",
        "reason",
        "customer_comment",
        "quantity_received",
        "condition",
        "disposition",
        "restock_warehouse",
    ]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "order", "return_request", "refund_amount", "reference", "actor"]
    list_select_related = ["order", "return_request"]
    list_filter = ["currency"]
    search_fields = ["order__number", "return_request__number", "reference"]
    date_hierarchy = "created_at"
    fields = ["order", "return_request", "amount", "currency", "reference", "actor", "created_at"]
    readonly_fields = fields

    @admin.display(description="amount", ordering="amount")
    def refund_amount(self, refund):
        return f"{refund.amount} {refund.currency}"


@admin.register(ExchangePolicy)
class ExchangePolicyAdmin(admin.ModelAdmin):
    """Per channel: does an exchange's replacement ship before the return arrives? A
    channel without a row waits for the return."""

    list_display = ["channel", "ship_before_return"]
    list_select_related = ["channel"]
    list_editable = ["ship_before_return"]
