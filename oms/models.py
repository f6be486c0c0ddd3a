from django.conf import settings
from django.db import models


class NumberSequence(models.Model):
    """Counter behind human-readable numbers on databases without sequences (SQLite).

    On PostgreSQL numbers come from real sequences (see ``oms.numbering``), which never
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
        PRODUCTS = "products", "Products"
        STOCK = "stock", "Stock counts"
        ORDERS = "orders", "Orders"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected (errors in the file)"
        FAILED = "failed", "Failed"

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
