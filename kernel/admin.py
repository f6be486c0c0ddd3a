"""Admin for outgoing webhooks (subscriptions, the outbox, the delivery log with manual
redelivery) and for the channel intake log (raw platform deliveries, re-processing).
The helpers it uses are ``kernel.admin_actions``."""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from kernel import webhooks
from kernel.admin_actions import ReadOnlyInlineMixin, ViewOnlyAdminMixin, run_action
from kernel.models import WebhookDelivery, WebhookEvent, WebhookSubscription, new_webhook_secret

EVENT_CHOICES = [(webhooks.ALL_EVENTS, "Every event type")] + [(t, t) for t in webhooks.EVENT_TYPES]


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    new_secret = forms.CharField(
        required=False,
        min_length=16,
        max_length=128,
        label="Secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to generate one (new subscription) or keep the current one. "
        "A generated secret is shown once, after saving.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "event_types", "active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "description", "event_list", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    fields = ["url", "description", "event_types", "active", "new_secret"]
    actions = ["rotate_secret"]

    @admin.display(description="events")
    def event_list(self, subscription):
        return ", ".join(subscription.event_types)

    def save_model(self, request, obj, form, change):
        secret = form.cleaned_data.get("new_secret")
        generated = not change and not secret
        if secret or generated:
            obj.secret = secret or new_webhook_secret()
        obj.save()
        if generated:
            self.message_user(
                request,
                f"Signing secret for {obj.url}: {obj.secret} (copy it now; it is not shown again)",
                messages.WARNING,
            )

    @admin.action(description="Generate a new signing secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for subscription in queryset.order_by("pk"):
            subscription.secret = new_webhook_secret()
            subscription.save(update_fields=["secret", "updated_at"])
            self.message_user(
                request,
                f"New signing secret for {subscription.url}: {subscription.secret} "
                "(copy it now; it is not shown again)",
                messages.WARNING,
            )


class WebhookDeliveryInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WebhookDelivery
    fields = ["attempt", "url", "status", "status_code", "latency_ms", "error", "manual"]
    readonly_fields = fields
    ordering = ["subscription_id", "attempt"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: what was published, written in the transaction of the change."""

    list_display = ["created_at", "event_type", "uuid"]
    list_filter = ["event_type"]
    search_fields = ["uuid", "event_type"]
    date_hierarchy = "created_at"
    fields = ["uuid", "event_type", "created_at", "body"]
    readonly_fields = fields
    inlines = [WebhookDeliveryInline]

    @admin.display(description="body sent")
    def body(self, event):
        return format_html(
            "<pre>{}</pre>", json.dumps(json.loads(webhooks.event_body(event)), indent=2)
        )


class RedeliverPermissionMixin:
    def has_redeliver_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RedeliverPermissionMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: one row per attempt."""

    list_display = [
        "id",
        "created_at",
        "event_type",
        "url",
        "attempt",
        "status",
        "status_code",
        "latency_ms",
        "manual",
    ]
    list_select_related = ["event"]
    list_filter = ["status", "event__event_type", "manual"]
    search_fields = ["url", "event__uuid", "error"]
    date_hierarchy = "created_at"
    fields = [
        "event",
        "subscription",
        "url",
        "attempt",
        "manual",
        "status",
        "due_at",
        "started_at",
        "finished_at",
        "status_code",
        "latency_ms",
        "error",
        "response_body",
    ]
    readonly_fields = fields
    actions = ["redeliver"]

    @admin.display(description="event", ordering="event__event_type")
    def event_type(self, delivery):
        return delivery.event.event_type

    @admin.action(description="Redeliver the selected events now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        run_action(
            self,
            request,
            queryset,
            lambda delivery: webhooks.redeliver(delivery=delivery, actor=request.user),
            done="Queued again",
        )
