"""django-q2 jobs of the oms package; each loads rows by id and calls services."""

import logging
import time

from django.db import connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from kernel.csvio import CsvFileError
from kernel.models import ImportJob

log = logging.getLogger(__name__)

# The importer of each kind, by dotted path (oms wires the apps together).
IMPORTERS = {
    ImportJob.Kind.PRODUCTS: "inventory.imports.import_products",
    ImportJob.Kind.STOCK: "inventory.imports.import_stock",
    ImportJob.Kind.ORDERS: "orders.imports.import_orders",
}
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes


class ProgressWriter:
    """Writes ``rows_done`` / ``rows_total`` of a job while its import runs.

    The import runs in one transaction, whose writes no other connection sees before
    it commits; on PostgreSQL the progress therefore goes through a second connection
    in autocommit, so the upload page can show it. SQLite allows one writer at a time:
    there progress is written only outside the import transaction (while reading and
    validating)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0
        self.phase = ""
        self.side = None

    def __call__(self, done: int, total: int, phase: str = "") -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < PROGRESS_INTERVAL and done < total:
            return
        self.last, self.phase = now, phase
        sql = "UPDATE oms_importjob SET rows_done = %s, rows_total = %s, message = %s WHERE id = %s"
        params = [done, total, phase, self.job_id]
        try:
            if connection.vendor == "postgresql" and connection.in_atomic_block:
                if self.side is None:
                    self.side = connections.create_connection("default")
                with self.side.cursor() as cursor:
                    cursor.execute(sql, params)
            elif not connection.in_atomic_block:
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
        except Exception:  # progress is best effort; never fail the import for it
            log.warning("could not record progress of import %s", self.job_id, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def run_import(job_id: int) -> str:
    """Import the file of an ImportJob; record the result or the error report."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job.status  # a retried task never imports twice
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.message = "reading"
    job.save(update_fields=["status", "started_at", "message"])
    progress = ProgressWriter(job.pk)
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        importer = import_string(IMPORTERS[job.kind])
        result = importer(data, dry_run=job.dry_run, actor=job.created_by, progress=progress)
    except CsvFileError as exc:
        job.status = ImportJob.Status.REJECTED
        job.errors = exc.as_list()
        job.result = {"rows": exc.rows, "more_errors": exc.more}
        job.message = f"{len(exc.errors) + exc.more} error(s); nothing was imported"
    except Exception as exc:
        log.exception("import %s failed", job.pk)
        job.status = ImportJob.Status.FAILED
        job.message = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        job.status = ImportJob.Status.DONE
        job.result = result.as_dict()
        job.rows_total = job.rows_done = result.rows
        job.message = result.summary()
    finally:
        progress.close()
    job.finished_at = timezone.now()
    job.save()
    return job.status


# --------------------------------------------------------------------------- webhooks


def webhook_deliver(delivery_id: int) -> str:
    """One attempt of an outgoing webhook (``kernel.webhooks.deliver``); a re-run after a
    crash claims nothing and records nothing."""
    from kernel import webhooks

    return webhooks.deliver(delivery_id)


def webhooks_sweep() -> dict:
    """Re-queue webhook attempts whose task was lost; close orphaned ones."""
    from kernel import webhooks

    return webhooks.sweep()
