import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NumberSequence(models.Model):
    """Counter behind human-readable numbers on databases without sequences (SQLite).

    On PostgreSQL numbers come from real sequences (see ``kernel.numbering``), which never
    block concurrent transactions.
    """

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class IdempotencyKey(models.Model):
    """A POST made with an ``Idempotency-Key`` header and the response it produced.

    A replay with the same key (same user) returns the stored response and changes
    nothing. The row is inserted before the action runs, in the same transaction, so a
    concurrent replay waits on the unique index and then reads the stored response.
    """

    key = models.CharField(max_length=255)
    user_id = models.BigIntegerField()
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.method} {self.path}"


def _import_upload_to(instance, filename: str) -> str:
    return f"imports/{instance.kind}/{filename}"


class ImportJob(models.Model):
    """A CSV file uploaded on the staff imports page, imported by a django-q2 job
    (``oms.tasks.run_import``). The page polls ``rows_done`` / ``rows_total`` while it
    runs and shows ``result`` (counts) or ``errors`` (one entry per bad row) after."""

    class Kind(models.TextChoices):
        PRODUCTS = "products", _("Products")
        STOCK = "stock", _("Stock counts")
        ORDERS = "orders", _("Orders")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected (errors in the file)")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to=_import_upload_to, max_length=255)
    filename = models.CharField(max_length=255, blank=True, default="")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.REJECTED, self.Status.FAILED}

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))


# --------------------------------------------------------------------------- webhooks
# Outgoing webhooks (``kernel.webhooks``) and the raw deliveries of the channel intake
# endpoints (``intake.inbound``).


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """A URL that hears about the event types it names (``["*"]``: every type).
    Each delivery is signed with ``secret`` (``X-OMS-Signature: sha256=<hex>``)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=255, blank=True, default="")
    secret = models.CharField(max_length=128, default=new_webhook_secret)
    event_types = models.JSONField(default=list, help_text='Event types, or ["*"] for all')
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookEvent(models.Model):
    """The outbox: one row per published event, written in the transaction of the change
    it reports, so a rolled-back change leaves no event (and sends nothing)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.uuid}"


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one subscription: the delivery log.

    An attempt is ``scheduled`` (with ``due_at``), claimed by exactly one task with a
    conditional ``UPDATE ... WHERE status = 'scheduled'`` (``sending``), then recorded as
    ``succeeded`` or ``failed``; a failure schedules the next attempt as a new row. The
    unique (event, subscription, attempt) keeps a re-run task from recording twice."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    url = models.CharField(max_length=500, help_text="The subscription's URL at the time")
    attempt = models.PositiveSmallIntegerField(default=1)
    manual = models.BooleanField(default=False, help_text="Redelivered by hand")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription", "attempt"], name="webhookdelivery_attempt_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="webhookdelivery_due_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} attempt {self.attempt} to {self.url}"
