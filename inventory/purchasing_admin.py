"""Admin for suppliers, purchase orders and transfers.

Statuses and quantities are read-only. A purchase order or a transfer is added as a
draft from a small form (its lines typed one per line, ``SKU quantity [unit cost]``)
through ``purchase_order_create`` / ``transfer_create``; sending, cancelling, closing
short and dispatching are actions calling the services. Receiving happens on the floor
(``/floor/stock/receive/po/<number>/``) or through the API. CSV export: an action.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory import documents, purchasing, transfers
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Supplier,
    SupplierProduct,
    Transfer,
    TransferEvent,
    TransferLine,
)
from inventory.services import MAX_QUANTITY
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    ViewOnlyAdminMixin,
    run_action,
    run_reason_action,
)
from kernel.csvio import stream_csv


def _parse_lines(text: str, *, with_cost: bool) -> list[dict]:
    """``SKU quantity [unit cost]`` per line -> service lines; ValidationError naming
    the line otherwise."""
    lines, errors = [], []
    rows = [row.split() for row in (text or "").splitlines() if row.strip()]
    products = Product.objects.in_bulk([r[0] for r in rows], field_name="sku")
    for number, cells in enumerate(rows, start=1):
        if len(cells) not in ((2, 3) if with_cost else (2,)):
            errors.append(
                f"line {number}: write SKU and quantity" + (" [unit cost]" if with_cost else "")
            )
            continue
        product = products.get(cells[0])
        if product is None:
            errors.append(f"line {number}: unknown SKU {cells[0]}")
            continue
        if not cells[1].isdigit() or not 0 < int(cells[1]) <= MAX_QUANTITY:
            errors.append(
                f"line {number}: the quantity must be a whole number from 1 to {MAX_QUANTITY}"
            )
            continue
        line = {"product": product, "quantity": int(cells[1])}
        if len(cells) == 3:
            try:
                line["unit_cost"] = Decimal(cells[2])
            except InvalidOperation:
                errors.append(f"line {number}: the unit cost must be a number like 12.50")
                continue
        lines.append(line)
    if errors:
        raise forms.ValidationError(errors)
    if not lines:
        raise forms.ValidationError("Give at least one line.")
    return lines


class PurchaseOrderAddForm(forms.ModelForm):
    lines_text = forms.CharField(
        label="Lines",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 50}),
        help_text="One per line: SKU quantity [unit cost], e.g. MUG-BLU 40 3.10. "
        "Without a cost, the supplier's price is used.",
    )

    class Meta:
        model = PurchaseOrder
        fields = ["supplier", "warehouse", "expected_date", "notes"]

    def clean_lines_text(self):
        return _parse_lines(self.cleaned_data["lines_text"], with_cost=True)


class TransferAddForm(forms.ModelForm):
    lines_text = forms.CharField(
        label="Lines",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 50}),
        help_text="One per line: SKU quantity, e.g. MUG-BLU 12",
    )

    class Meta:
        model = Transfer
        fields = ["source", "destination", "expected_date", "notes"]

    def clean_lines_text(self):
        return _parse_lines(self.cleaned_data["lines_text"], with_cost=False)


def _csv_download(rows, header, name):
    response = HttpResponse(
        "".join(stream_csv(rows, header=header)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


class SupplierProductInline(admin.TabularInline):
    model = SupplierProduct
    extra = 1
    fields = ["product", "supplier_sku", "unit_cost", "priority"]
    autocomplete_fields = ["product"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "email", "lead_time_days", "currency", "active"]
    list_display_links = ["code", "name"]
    list_filter = ["active", "currency"]
    search_fields = ["code", "name", "email"]
    inlines = [SupplierProductInline]


class PurchaseOrderLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = PurchaseOrderLine
    fields = ["product", "quantity", "unit_cost", "expected_date", "quantity_received"]
    readonly_fields = fields
    show_change_link = False


class PurchaseOrderEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = PurchaseOrderEvent
    fields = ["created_at", "kind", "message", "actor"]
    readonly_fields = fields
    show_change_link = False


class DraftThroughServiceMixin:
    """Admin of a document that is added as a draft through its service, its lines typed
    as text (``add_form`` with ``lines_text``; ``create_draft`` calls the service); the
    change page shows it read-only with its inlines and saves only its notes. Never
    deleted (cancel it)."""

    add_form: type[forms.ModelForm]

    def create_draft(self, request, data):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = [*self.add_form.Meta.fields, "lines_text"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*self.add_form.Meta.fields, "lines_text"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["notes", "updated_at"])
            return
        draft = self.create_draft(request, form.cleaned_data)
        obj.pk, obj.number, obj.status = draft.pk, draft.number, draft.status
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(DraftThroughServiceMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "supplier",
        "warehouse",
        "status",
        "expected_date",
        "overdue",
        "created_at",
        "documents",
    ]
    list_select_related = ["supplier", "warehouse"]
    list_filter = ["status", "supplier", "warehouse"]
    search_fields = ["=number", "supplier__code", "supplier__name", "lines__product__sku"]
    readonly_fields = [
        "number",
        "supplier",
        "warehouse",
        "status",
        "currency",
        "expected_date",
        "created_at",
        "sent_at",
        "closed_at",
        "documents",
    ]
    fields = [*readonly_fields, "notes"]
    inlines = [PurchaseOrderLineInline, PurchaseOrderEventInline]
    actions = ["send", "close_short", "cancel", "export_csv"]

    add_form = PurchaseOrderAddForm

    def create_draft(self, request, data):
        return purchasing.purchase_order_create(
            supplier=data["supplier"],
            warehouse=data["warehouse"],
            expected_date=data.get("expected_date"),
            notes=data.get("notes", ""),
            lines=data["lines_text"],
            actor=request.user,
        )

    @admin.display(description="overdue", boolean=True)
    def overdue(self, po):
        return bool(
            po.status in PurchaseOrder.DUE_STATUSES
            and po.expected_date
            and po.expected_date < timezone.localdate()
        )

    @admin.display(description="documents")
    def documents(self, po):
        if po.pk is None:
            return "-"
        base = reverse("purchase-order-detail", kwargs={"number": po.number})
        receive = reverse("stock:receive-po", args=[po.number])
        return format_html(
            '<a href="{}document.pdf/">PDF</a> · <a href="{}lines.csv/">CSV</a> · '
            '<a href="{}">receive</a>',
            base,
            base,
            receive,
        )

    @admin.action(description="Send selected drafts to their suppliers", permissions=["change"])
    def send(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda po: purchasing.purchase_order_send(purchase_order=po, actor=request.user),
            done="Sent",
        )

    @admin.action(
        description="Close selected short (the rest will not come)…", permissions=["change"]
    )
    def close_short(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            lambda po, reason: purchasing.purchase_order_close(
                purchase_order=po, reason=reason, actor=request.user
            ),
            action="close_short",
            title="Close short",
            submit="Close",
            intro="What was not delivered no longer counts as on order.",
            done="Closed",
        )

    @admin.action(description="Cancel selected purchase orders…", permissions=["change"])
    def cancel(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            lambda po, reason: purchasing.purchase_order_cancel(
                purchase_order=po, reason=reason, actor=request.user
            ),
            action="cancel",
            title="Cancel purchase orders",
            submit="Cancel them",
            done="Cancelled",
        )

    @admin.action(description="Export selected as CSV (one row per line)", permissions=["view"])
    def export_csv(self, request, queryset):
        return _csv_download(
            documents.purchase_orders_csv_rows(queryset),
            documents.PURCHASE_ORDERS_CSV_COLUMNS,
            "purchase-orders",
        )


class TransferLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = TransferLine
    fields = ["product", "quantity", "quantity_received", "quantity_lost", "in_transit"]
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="in transit")
    def in_transit(self, line):
        return line.in_transit if line.transfer.status in Transfer.IN_TRANSIT_STATUSES else 0


class TransferEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = TransferEvent
    fields = ["created_at", "kind", "message", "actor"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Transfer)
class TransferAdmin(DraftThroughServiceMixin, admin.ModelAdmin):
    list_display = ["number", "source", "destination", "status", "expected_date", "dispatched_at"]
    list_select_related = ["source", "destination"]
    list_filter = ["status", "source", "destination"]
    search_fields = ["=number", "lines__product__sku"]
    readonly_fields = [
        "number",
        "source",
        "destination",
        "status",
        "expected_date",
        "created_at",
        "dispatched_at",
        "closed_at",
        "receive_link",
    ]
    fields = [*readonly_fields, "notes"]
    inlines = [TransferLineInline, TransferEventInline]
    actions = ["dispatch_transfers", "cancel", "export_csv"]

    add_form = TransferAddForm

    def create_draft(self, request, data):
        return transfers.transfer_create(
            source=data["source"],
            destination=data["destination"],
            expected_date=data.get("expected_date"),
            notes=data.get("notes", ""),
            lines=data["lines_text"],
            actor=request.user,
        )

    @admin.display(description="receive")
    def receive_link(self, transfer):
        if transfer.pk is None:
            return "-"
        url = reverse("stock:receive-transfer", args=[transfer.number])
        return format_html('<a href="{}">Receive at {}</a>', url, transfer.destination.code)

    @admin.action(description="Dispatch selected (stock leaves the source)", permissions=["change"])
    def dispatch_transfers(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda t: transfers.transfer_dispatch(transfer=t, actor=request.user),
            done="Dispatched",
        )

    @admin.action(description="Cancel selected drafts", permissions=["change"])
    def cancel(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda t: transfers.transfer_cancel(transfer=t, actor=request.user),
            done="Cancelled",
        )

    @admin.action(description="Export selected as CSV (one row per line)", permissions=["view"])
    def export_csv(self, request, queryset):
        return _csv_download(
            documents.transfers_csv_rows(queryset), documents.TRANSFERS_CSV_COLUMNS, "transfers"
        )


# Lines and timelines: listed and shown on their own too (read only, written by services).


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["purchase_order", "product", "quantity", "quantity_received", "expected_date"]
    list_select_related = ["purchase_order", "product"]
    list_filter = ["purchase_order__status", "purchase_order__warehouse"]
    search_fields = ["=purchase_order__number", "product__sku"]


@admin.register(PurchaseOrderEvent)
class PurchaseOrderEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "purchase_order", "kind", "message", "actor"]
    list_select_related = ["purchase_order"]
    list_filter = ["kind"]
    search_fields = ["=purchase_order__number"]


@admin.register(TransferLine)
class TransferLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["transfer", "product", "quantity", "quantity_received", "quantity_lost"]
    list_select_related = ["transfer", "product"]
    list_filter = ["transfer__status", "transfer__destination"]
    search_fields = ["=transfer__number", "product__sku"]


@admin.register(TransferEvent)
class TransferEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "transfer", "kind", "message", "actor"]
    list_select_related = ["transfer"]
    list_filter = ["kind"]
    search_fields = ["=transfer__number"]


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    list_display = ["product", "supplier", "supplier_sku", "unit_cost", "priority"]
    list_select_related = ["product", "supplier"]
    list_filter = ["supplier"]
    search_fields = ["product__sku", "supplier__code", "supplier_sku"]
    autocomplete_fields = ["product"]
