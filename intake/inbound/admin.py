"""The channel admin's intake part (mixed into ``intake.admin.ChannelSyncAdmin``): the
webhook secret is write-only (never displayed after it was set), generated and shown
once by an action, or pasted (Shopify shows its own signing secret); a change keeps the
previous secret valid for ``OMS_INTAKE_SECRET_GRACE_HOURS``; the intake URLs to give the
platforms are shown on the channel page."""

import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from intake.inbound.services import (
    channel_rotate_webhook_secret,
    channel_set_webhook_secret,
    intake_reprocess,
)
from intake.models import IntakeDelivery, IntakeSecretRotation
from kernel.admin import RedeliverPermissionMixin
from kernel.admin_actions import ViewOnlyAdminMixin, run_action
from orders.models import Channel


def intake_urls(channel: Channel) -> list[tuple[str, str]]:
    base = getattr(settings, "OMS_PUBLIC_URL", "")
    return [
        (name, base + reverse(f"channel-intake-{key}", kwargs={"code": channel.code}))
        for key, name in (("shopify", "Shopify"), ("woocommerce", "WooCommerce"))
    ]


class WriteOnlyField(forms.CharField):
    """Never shows its value; changed only when something was typed."""

    def has_changed(self, initial, data) -> bool:
        return bool(data)


class ChannelIntakeForm(forms.ModelForm):
    webhook_secret = WriteOnlyField(
        required=False,
        max_length=128,
        label="New webhook secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Paste the platform's signing secret to replace the current one, or use "
        "the action 'Generate / rotate webhook secret'. Leave empty to keep it.",
    )

    class Meta:
        model = Channel
        fields = ["webhook_secret"]  # the admin adds the fieldsets' fields


class ChannelIntakeAdminMixin:
    form = ChannelIntakeForm
    actions = ["rotate_webhook_secret"]
    intake_fields = ["webhook_secret", "webhook_secret_status", "intake_endpoints"]

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "webhook_secret_status",
            "intake_endpoints",
        ]

    def save_model(self, request, obj, form, change):
        new_secret = (form.cleaned_data.get("webhook_secret") or "").strip()
        if change:
            # The secret changes only through the service (rotation record, grace).
            obj.webhook_secret = Channel.objects.get(pk=obj.pk).webhook_secret
            super().save_model(request, obj, form, change)
            if new_secret:
                channel_set_webhook_secret(channel=obj, secret=new_secret, actor=request.user)
        else:
            obj.webhook_secret = new_secret
            super().save_model(request, obj, form, change)

    @admin.display(description="webhook secret")
    def webhook_secret_status(self, channel):
        if channel is None or not channel.pk:
            return "-"
        if not channel.webhook_secret:
            return "Not set: the intake endpoints refuse every delivery (401)."
        rotation = IntakeSecretRotation.objects.filter(channel=channel).first()
        if rotation is None:
            return "Set."
        grace = timedelta(hours=int(getattr(settings, "OMS_INTAKE_SECRET_GRACE_HOURS", 24)))
        until = rotation.rotated_at + grace
        text = f"Set; changed {rotation.rotated_at:%Y-%m-%d %H:%M} by {rotation.rotated_by}."
        if rotation.previous_secret and until > timezone.now():
            text += f" The previous secret is accepted until {until:%Y-%m-%d %H:%M}."
        return text

    @admin.display(description="intake URLs")
    def intake_endpoints(self, channel):
        if channel is None or not channel.pk:
            return "Save the channel first."
        return format_html(
            "<ul style='margin:0'>{}</ul>",
            format_html_join("", "<li>{}: <code>{}</code></li>", intake_urls(channel)),
        )

    @admin.action(
        description="Generate / rotate webhook secret (shown once)", permissions=["change"]
    )
    def rotate_webhook_secret(self, request, queryset):
        for channel in queryset.order_by("pk"):
            secret = channel_rotate_webhook_secret(channel=channel, actor=request.user)
            self.message_user(
                request,
                f"New webhook secret for {channel.code}: {secret} (copy it now, it is not "
                "shown again; the previous one is still accepted for "
                f"{getattr(settings, 'OMS_INTAKE_SECRET_GRACE_HOURS', 24)} h)",
                messages.WARNING,
            )


@admin.register(IntakeDelivery)
class IntakeDeliveryAdmin(RedeliverPermissionMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Every order webhook a platform sent, as received; what became of it."""

    list_display = [
        "id",
        "received_at",
        "channel",
        "platform",
        "topic",
        "external_id",
        "status",
        "order_link",
        "duplicates",
    ]
    list_select_related = ["channel", "order"]
    list_filter = ["status", "platform", "channel", "topic"]
    search_fields = ["external_id", "delivery_id", "order__number", "message"]
    date_hierarchy = "received_at"
    fields = [
        "channel",
        "platform",
        "topic",
        "delivery_id",
        "external_id",
        "source_updated_at",
        "status",
        "message",
        "order",
        "duplicates",
        "received_at",
        "processed_at",
        "headers",
        "pretty_body",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    @admin.display(description="order", ordering="order__number")
    def order_link(self, delivery):
        if delivery.order_id is None:
            return "-"
        url = reverse("admin:orders_order_change", args=[delivery.order_id])
        return format_html('<a href="{}">{}</a>', url, delivery.order.number)

    @admin.display(description="body")
    def pretty_body(self, delivery):
        try:
            shown = json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            shown = delivery.body
        return format_html("<pre>{}</pre>", shown)

    @admin.action(
        description="Re-process (apply the stored payload again)", permissions=["redeliver"]
    )
    def reprocess(self, request, queryset):
        results = run_action(
            self,
            request,
            queryset,
            lambda delivery: intake_reprocess(delivery=delivery, actor=request.user),
            done="Re-processed",
        )
        for result in results:
            level = messages.SUCCESS if result.status == "processed" else messages.WARNING
            self.message_user(request, f"#{result.delivery.pk}: {result.message}", level)
