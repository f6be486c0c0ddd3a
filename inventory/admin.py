"""Admin for products, warehouses, stock levels and the stock ledger.

Quantities are read-only: stock changes through the "Receive stock" and "Adjust stock"
actions, which call ``inventory.services``. On a stock level only the bin and the
reorder point are edited (``stock_set_location``). The ledger is append-only.
"""

from django import forms
from django.contrib import admin
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from inventory.models import (
    DemandForecast,
    LowStockAlert,
    Product,
    StockChangeMark,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.resources import ProductResource, StockLevelResource
from inventory.services import MAX_QUANTITY, stock_adjust, stock_receive, stock_set_location
from kernel.admin_actions import ReadOnlyInlineMixin, ViewOnlyAdminMixin, action_form, run_action
from kernel.csv_admin import CsvImportExportAdmin

# --------------------------------------------------------------------------- forms


class _WarehouseChoiceMixin:
    """The warehouse field is asked for on products and left out on stock levels
    (a level already names its warehouse)."""

    def __init__(self, *args, with_warehouse: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_warehouse:
            del self.fields["warehouse"]


class ReceiveStockForm(_WarehouseChoiceMixin, forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(active=True))
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Units received of each selected item."
    )
    reference = forms.CharField(
        max_length=64, required=False, help_text="Purchase order, ASN or delivery note."
    )
    note = forms.CharField(max_length=255, required=False)


class AdjustStockForm(_WarehouseChoiceMixin, forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.all())
    delta = forms.IntegerField(
        required=False,
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Units to add (e.g. 3) or remove (e.g. -2)…",
    )
    counted = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_QUANTITY,
        help_text="…or the quantity counted on the shelf (a stock count).",
    )
    reason = forms.CharField(max_length=255, help_text="Why: damaged, found, cycle count…")
    reference = forms.CharField(max_length=64, required=False)

    def clean(self):
        cleaned = super().clean()
        delta, counted = cleaned.get("delta"), cleaned.get("counted")
        if "delta" in self.errors or "counted" in self.errors:
            return cleaned
        if (delta is None) == (counted is None):
            raise forms.ValidationError("Give either a delta or a counted quantity, not both.")
        if delta == 0:
            self.add_error("delta", "The delta must not be 0.")
        return cleaned


class StockLevelForm(forms.ModelForm):
    """Only the pick location and the reorder point: they are not quantities."""

    class Meta:
        model = StockLevel
        fields = ["bin", "reorder_point"]


# --------------------------------------------------------------------------- actions


def _receive(modeladmin, request, queryset, *, action: str, to_level):
    """Shared by products (warehouse chosen in the form) and stock levels."""
    with_warehouse = to_level is None
    form, response = action_form(
        modeladmin,
        request,
        queryset,
        ReceiveStockForm,
        action=action,
        title="Receive stock",
        submit="Receive",
        intro="Goods in: on hand grows by the quantity, with a receipt in the stock ledger.",
        form_kwargs={"with_warehouse": with_warehouse},
    )
    if response:
        return response
    data = form.cleaned_data

    def receive(obj):
        product, warehouse = to_level(obj) if to_level else (obj, data["warehouse"])
        return stock_receive(
            product=product,
            warehouse=warehouse,
            quantity=data["quantity"],
            reference=data["reference"],
            note=data["note"],
            actor=request.user,
        )

    where = f"at {data['warehouse'].code} for" if with_warehouse else "into"
    run_action(
        modeladmin, request, queryset, receive, done=f"Received {data['quantity']} unit(s) {where}"
    )
    return None


def _adjust(modeladmin, request, queryset, *, action: str, to_level):
    with_warehouse = to_level is None
    form, response = action_form(
        modeladmin,
        request,
        queryset,
        AdjustStockForm,
        action=action,
        title="Adjust stock",
        submit="Adjust",
        intro="Correct on hand by a delta (ledger 'adjustment') or set it to a counted "
        "quantity (ledger 'count'). On hand never falls below what is reserved for orders.",
        form_kwargs={"with_warehouse": with_warehouse},
    )
    if response:
        return response
    data = form.cleaned_data

    def adjust(obj):
        product, warehouse = to_level(obj) if to_level else (obj, data["warehouse"])
        return stock_adjust(
            product=product,
            warehouse=warehouse,
            reason=data["reason"],
            delta=data["delta"],
            counted=data["counted"],
            reference=data["reference"],
            actor=request.user,
        )

    done = f"Adjusted stock at {data['warehouse'].code} for" if with_warehouse else "Adjusted"
    run_action(modeladmin, request, queryset, adjust, done=done)
    return None


def _level_pair(level: StockLevel):
    return level.product, level.warehouse


# --------------------------------------------------------------------------- filters


class BelowReorderPointFilter(admin.SimpleListFilter):
    title = "reorder point"
    parameter_name = "below_reorder_point"

    def lookups(self, request, model_admin):
        return [("yes", "At or below reorder point"), ("no", "Above reorder point")]

    def queryset(self, request, queryset):
        below = {"reorder_point__gt": 0, "available_qty__lte": F("reorder_point")}
        if self.value() == "yes":
            return queryset.filter(**below)
        if self.value() == "no":
            return queryset.exclude(**below)
        return queryset


# --------------------------------------------------------------------------- admins


class ProductStockInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = StockLevel
    fields = ["warehouse", "bin", "on_hand", "reserved", "available", "reorder_point"]
    readonly_fields = fields
    verbose_name_plural = "stock by warehouse"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("warehouse", "product")

    @admin.display(description="available")
    def available(self, level):
        return level.available


@admin.register(Product)
class ProductAdmin(CsvImportExportAdmin):
    resource_classes = [ProductResource]
    # The aggregate in get_queryset drops Meta.ordering (GROUP BY): keep it here.
    ordering = ["sku"]
    list_display = [
        "sku",
        "name",
        "barcode",
        "price",
        "weight_grams",
        "lead_time_days",
        "on_hand_total",
        "available_total",
        "active",
    ]
    list_display_links = ["sku", "name"]
    list_filter = ["active"]
    search_fields = ["sku", "name", "barcode"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "barcode", "price", "active"]}),
        (
            "Logistics",
            {"fields": ["weight_grams", ("length_cm", "width_cm", "height_cm"), "lead_time_days"]},
        ),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [ProductStockInline]
    actions = ["receive_stock", "adjust_stock"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                on_hand_sum=Coalesce(Sum("stock_levels__on_hand"), 0),
                reserved_sum=Coalesce(Sum("stock_levels__reserved"), 0),
            )
            .annotate(available_sum=F("on_hand_sum") - F("reserved_sum"))
        )

    @admin.display(description="on hand", ordering="on_hand_sum")
    def on_hand_total(self, product):
        return product.on_hand_sum

    @admin.display(description="available", ordering="available_sum")
    def available_total(self, product):
        return product.available_sum

    @admin.action(description="Receive stock of selected products…", permissions=["change"])
    def receive_stock(self, request, queryset):
        return _receive(self, request, queryset, action="receive_stock", to_level=None)

    @admin.action(description="Adjust or count stock of selected products…", permissions=["change"])
    def adjust_stock(self, request, queryset):
        return _adjust(self, request, queryset, action="adjust_stock", to_level=None)


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "country", "region", "city", "priority", "active"]
    list_display_links = ["code", "name"]
    list_editable = ["priority", "active"]
    list_filter = ["kind", "active", "country"]
    search_fields = ["code", "name", "city", "region", "postcode"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "priority", "daily_capacity", "active"]}),
        (
            "Address",
            {"fields": ["country", "region", "city", "postcode", ("latitude", "longitude")]},
        ),
    ]


@admin.register(StockLevel)
class StockLevelAdmin(CsvImportExportAdmin):
    resource_classes = [StockLevelResource]
    form = StockLevelForm
    list_display = [
        "__str__",
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "bin",
        "reorder_point",
        "below_reorder_point",
        "updated_at",
    ]
    list_select_related = ["product", "warehouse"]
    list_filter = ["warehouse", BelowReorderPointFilter]
    search_fields = ["product__sku", "product__name", "product__barcode", "bin"]
    fields = [
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "bin",
        "reorder_point",
        "movements",
        "updated_at",
    ]
    readonly_fields = [
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "movements",
        "updated_at",
    ]
    actions = ["receive_stock", "adjust_stock"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product", "warehouse")
            .annotate(available_qty=F("on_hand") - F("reserved"))
        )

    def has_add_permission(self, request):
        # A level appears with its first receipt (Products > Receive stock).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        stock_set_location(
            level=obj,
            bin=form.cleaned_data["bin"],
            reorder_point=form.cleaned_data["reorder_point"],
        )

    @admin.display(description="available", ordering="available_qty")
    def available(self, level):
        return level.available

    @admin.display(description="reorder", boolean=True)
    def below_reorder_point(self, level):
        return bool(level.reorder_point) and level.available <= level.reorder_point

    @admin.display(description="stock ledger")
    def movements(self, level):
        if level.pk is None:
            return "-"
        url = reverse("admin:inventory_stockmovement_changelist")
        return format_html(
            '<a href="{}?product__id__exact={}&amp;warehouse__id__exact={}">Movements of {}</a>',
            url,
            level.product_id,
            level.warehouse_id,
            level,
        )

    @admin.action(description="Receive stock into selected levels…", permissions=["change"])
    def receive_stock(self, request, queryset):
        return _receive(self, request, queryset, action="receive_stock", to_level=_level_pair)

    @admin.action(description="Adjust or count selected levels…", permissions=["change"])
    def adjust_stock(self, request, queryset):
        return _adjust(self, request, queryset, action="adjust_stock", to_level=_level_pair)


@admin.register(StockMovement)
class StockMovementAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The append-only ledger: listed and shown, never added, changed or deleted."""

    list_display = [
        "created_at",
        "product",
        "warehouse",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "reference",
        "actor",
        "note",
    ]
    list_select_related = ["product", "warehouse"]
    # No date_hierarchy: its date drill-down aggregates the whole ledger; a date filter
    # narrows the newest-first (primary key) listing instead.
    list_filter = ["kind", "warehouse", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["product__sku", "=reference", "actor"]
    fields = [
        "created_at",
        "product",
        "warehouse",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "reference",
        "note",
        "actor",
    ]
    readonly_fields = fields


@admin.register(DemandForecast)
class DemandForecastAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The nightly forecasts (``inventory.forecasting``): read only, recomputed nightly."""

    list_display = [
        "product",
        "warehouse",
        "method",
        "level",
        "sigma",
        "wape",
        "zero_share",
        "history_days",
        "computed_at",
    ]
    list_select_related = ["product", "warehouse"]
    list_filter = ["method", "warehouse"]
    search_fields = ["product__sku"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Raised and resolved by the hourly low-stock check; read only."""

    list_display = [
        "created_at",
        "product",
        "warehouse",
        "status",
        "available",
        "reorder_point",
        "suggested_quantity",
        "order_by",
        "resolved_at",
    ]
    list_select_related = ["product", "warehouse"]
    list_filter = ["status", "warehouse"]
    search_fields = ["product__sku"]


@admin.register(StockChangeMark)
class StockChangeMarkAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Stock levels changed since the sales channels last heard (drained by the channel
    sync within seconds when a channel pushes stock)."""

    list_display = ["level", "marked_at"]
    list_select_related = ["level__product", "level__warehouse"]
    search_fields = ["level__product__sku", "level__warehouse__code"]


# Suppliers, purchase orders and transfers.
from inventory import purchasing_admin  # noqa: E402, F401
