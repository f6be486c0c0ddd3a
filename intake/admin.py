"""Admin of the channel sync: the channel page gains its connection (credentials
write-only, shown masked) and stock-sync settings, and actions to link listings,
resync all stock and reconcile orders now; listings, pending SKUs and the outbox are
listed read-only (a failed outbox message can be sent again)."""

from django import forms
from django.contrib import admin, messages

from intake.inbound.admin import ChannelIntakeAdminMixin, ChannelIntakeForm, WriteOnlyField
from intake.models import ChannelListing, ChannelOutbox, ChannelStockPending, OrderDraft
from intake.sync.listings import channel_link_listings
from intake.sync.outbound import channel_outbox_retry
from intake.sync.reconcile import channel_orders_reconcile
from intake.sync.stock import channel_stock_push
from kernel.admin_actions import ViewOnlyAdminMixin, run_action
from orders.admin import ChannelAdmin
from orders.api import CREDENTIALS, channel_connection_errors
from orders.models import Channel, Platform, mask_secret


def _secret_field(label: str, help_text: str) -> WriteOnlyField:
    return WriteOnlyField(
        required=False,
        max_length=255,
        label=label,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text + " Leave empty to keep the current one.",
    )


class ChannelSyncForm(ChannelIntakeForm):
    api_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Store URL",
        help_text="The store's base URL, e.g. https://shop.myshopify.com",
    )
    access_token = _secret_field("Shopify access token", "The Admin API access token.")
    consumer_key = _secret_field("WooCommerce consumer key", "REST API key (ck_...).")
    consumer_secret = _secret_field("WooCommerce consumer secret", "REST API secret (cs_...).")

    class Meta(ChannelIntakeForm.Meta):
        fields = ["webhook_secret", *CREDENTIALS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A channel page saved without the sync fields (not connected) keeps the defaults.
        for name in ("platform", "stock_buffer"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_platform(self):
        return self.cleaned_data.get("platform") or Platform.NONE

    def clean_stock_buffer(self):
        value = self.cleaned_data.get("stock_buffer")
        return 0 if value is None else value

    def clean(self):
        data = super().clean()
        merged = {
            "platform": data.get("platform"),
            "api_url": data.get("api_url"),
            "push_stock": data.get("push_stock"),
        }
        for name in CREDENTIALS:
            merged[name] = data.get(name) or (getattr(self.instance, name) if self.instance else "")
        for field, message in channel_connection_errors(**merged).items():
            self.add_error(field if field in self.fields else None, message)
        return data


class ChannelSyncAdmin(ChannelIntakeAdminMixin, ChannelAdmin):
    form = ChannelSyncForm
    actions = [
        *ChannelIntakeAdminMixin.actions,
        "link_listings",
        "resync_stock",
        "reconcile_orders",
    ]
    fieldsets = [
        *ChannelAdmin.fieldsets,
        ("Intake", {"fields": ChannelIntakeAdminMixin.intake_fields}),
        (
            "Platform connection",
            {"fields": ["platform", "api_url", *CREDENTIALS, "credentials_status"]},
        ),
        (
            "Stock and fulfillment sync",
            {
                "fields": [
                    "push_stock",
                    "stock_warehouses",
                    "stock_buffer",
                    "stock_share_percent",
                    "push_fulfillments",
                ]
            },
        ),
    ]
    filter_horizontal = ["stock_warehouses"]
    list_display = [*ChannelAdmin.list_display, "platform", "push_stock", "push_fulfillments"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "credentials_status"]

    @admin.display(description="credentials")
    def credentials_status(self, channel):
        if channel is None or not channel.pk:
            return "-"
        return ", ".join(
            f"{name.replace('_', ' ')}: {mask_secret(getattr(channel, name)) or 'not set'}"
            for name in CREDENTIALS
        )

    def save_model(self, request, obj, form, change):
        # Write-only: an empty credential field keeps what is stored.
        if change:
            stored = Channel.objects.get(pk=obj.pk)
            for name in CREDENTIALS:
                if not form.cleaned_data.get(name):
                    setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)

    @admin.action(description="Link listings from the platform's catalogue", permissions=["change"])
    def link_listings(self, request, queryset):
        for report in run_action(
            self,
            request,
            queryset,
            lambda channel: channel_link_listings(channel=channel),
            done="Linked listings of",
        ):
            self.message_user(
                request,
                f"{report.channel}: {report.linked} linked; only on the platform: "
                f"{len(report.only_on_platform)} ({', '.join(report.only_on_platform[:20])}); "
                f"only here: {len(report.only_here)} ({', '.join(report.only_here[:20])})",
                messages.INFO,
            )

    @admin.action(description="Resync all stock now", permissions=["change"])
    def resync_stock(self, request, queryset):
        for report in run_action(
            self,
            request,
            queryset,
            lambda channel: channel_stock_push(channel=channel, full=True),
            done="Pushed stock of",
        ):
            level = messages.WARNING if report.failed or report.error else messages.INFO
            self.message_user(
                request,
                f"{report.channel}: {len(report.sent)} sent, {len(report.failed)} failed"
                + (f" ({report.error})" if report.error else ""),
                level,
            )

    @admin.action(description="Reconcile orders now", permissions=["change"])
    def reconcile_orders(self, request, queryset):
        for report in run_action(
            self,
            request,
            queryset,
            lambda channel: channel_orders_reconcile(channel=channel),
            done="Reconciled",
        ):
            found = ", ".join(o["external_id"] for o in report["only_by_poll"]) or "none"
            self.message_user(
                request,
                f"{report['fetched']} orders polled; only the poll found: {found}",
                messages.INFO,
            )


admin.site.unregister(Channel)
admin.site.register(Channel, ChannelSyncAdmin)


@admin.register(ChannelListing)
class ChannelListingAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "channel",
        "sku",
        "remote_product_id",
        "remote_variant_id",
        "inventory_item_id",
        "last_pushed_quantity",
        "last_pushed_at",
    ]
    list_filter = ["channel"]
    search_fields = ["sku", "remote_product_id", "remote_variant_id"]
    list_select_related = ["channel"]


@admin.register(ChannelStockPending)
class ChannelStockPendingAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["channel", "product", "marked_at", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["channel"]
    search_fields = ["product__sku"]
    list_select_related = ["channel", "product"]


@admin.register(ChannelOutbox)
class ChannelOutboxAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "order",
        "kind",
        "reference",
        "status",
        "attempts",
        "last_error",
        "note",
    ]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["reference", "order__number", "order__external_id"]
    list_select_related = ["channel", "order"]
    actions = ["send_again"]

    @admin.action(description="Send again", permissions=["view"])
    def send_again(self, request, queryset):
        run_action(
            self,
            request,
            queryset.filter(status=ChannelOutbox.Status.FAILED),
            lambda row: channel_outbox_retry(outbox=row),
            done="Queued again",
        )


@admin.register(OrderDraft)
class OrderDraftAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Staff order drafts, read-only: they are entered and placed on /orders/new/."""

    list_display = ["pk", "customer_email", "channel", "created_by", "updated_at", "placed_order"]
    list_filter = [("placed_order", admin.EmptyFieldListFilter), "channel"]
    search_fields = ["customer_email", "customer_name", "placed_order__number"]
    list_select_related = ["channel", "created_by", "placed_order"]


# The order admin's add page and address changes go through intake and the edit service.
from intake import order_admin  # noqa: E402, F401
