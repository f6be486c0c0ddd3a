"""Pick lists: read-only statuses, changed through actions."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse

from fulfillment import services
from fulfillment.admin.shipments import _links
from fulfillment.models import (
    PickList,
    Shipment,
)
from kernel.admin_actions import (
    ReadOnlyInlineMixin,
    run_action,
    save_changed_fields,
)

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
