"""The order import job: read, validate, place in one transaction, then accept
(``order.created`` and the acceptance policy) each new order."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils.module_loading import import_string

from kernel import webhooks
from kernel.csvio import (
    CsvFileError,
    CsvTable,
    ImportResult,
    Progress,
    Rollback,
    RowError,
    Timer,
    gc_paused,
    in_chunks,
    read_csv,
)
from kernel.exceptions import DomainError
from orders.imports.drafts import ORDER_ACCEPT, ORDER_DECIMALS, ORDER_REQUIRED, READ_COLUMNS, _noop
from orders.imports.validation import validate_orders
from orders.imports.writers import _place
from orders.models import Order


def import_orders(
    data,
    *,
    dry_run: bool = False,
    actor=None,
    progress: Progress | None = None,
    details: dict | None = None,
) -> ImportResult:
    """Place the orders of a CSV file (bytes/text or a CsvTable) in one transaction.

    Orders already placed (same channel and external id) are skipped. Raises
    CsvFileError, writing nothing, if any row is bad. Orders on auto-confirming
    channels are confirmed and routed before the transaction commits. ``details``, if
    given, receives ``placed`` [(draft, order id)] and ``skipped`` [drafts]."""
    with gc_paused():
        return _import_orders(
            data, dry_run=dry_run, actor=actor, progress=progress, details=details
        )


def _import_orders(data, *, dry_run: bool, actor, progress, details) -> ImportResult:
    timer = Timer()
    progress = progress or _noop
    table = (
        data
        if isinstance(data, CsvTable)
        else read_csv(data, columns=READ_COLUMNS, required=ORDER_REQUIRED, decimals=ORDER_DECIMALS)
    )
    timer.mark("read")
    drafts, warnings = validate_orders(table, progress)
    timer.mark("validate")
    new = [d for d in drafts if d.existing is None]
    result = ImportResult(kind="orders", rows=len(table), dry_run=dry_run, warnings=warnings)
    result.skipped = len(drafts) - len(new)
    result.extra["lines_skipped"] = sum(len(d.lines) for d in drafts if d.existing)
    try:
        with transaction.atomic():
            progress(len(table), len(table), "writing")
            placed = _place(new, actor, dry_run)
            result.new = len(placed)
            result.extra["lines_new"] = sum(len(d.lines) for d, _ in placed)
            result.skipped += len(new) - len(placed)
            _accept(placed, result, actor, progress, len(table))
            if details is not None:
                details["placed"] = placed
                details["skipped"] = [d for d in drafts if d.existing is not None]
            timer.mark("write")
            if dry_run:
                raise Rollback
    except Rollback:
        pass
    timer.mark("commit" if not dry_run else "rollback")
    result.extra["phases"] = timer.phases
    result.seconds = timer.seconds
    return result


def _accept(placed: list[tuple], result, actor, progress, total) -> None:
    """What every entry point does after placing: ``order.created`` for each new order,
    then the acceptance policy (``fulfillment.services.intake.order_accept``: on an
    auto-confirming channel the auto-confirm rules decide between a hold naming the
    failed rules and confirm + route), in the import's transaction."""
    result.extra["confirmed"] = result.extra["held"] = 0
    if not placed:
        return
    accept = import_string(ORDER_ACCEPT)
    progress(total, total, "confirming")
    with webhooks.subscriptions_read_once():
        for _, pk in placed:  # the payload (and so the order) is read only for a subscriber
            webhooks.publish("order.created", partial(_order_data, pk))
        auto = [pk for draft, pk in placed if draft.channel.auto_confirm]
        for chunk in in_chunks(auto, 500):
            orders = Order.objects.filter(pk__in=chunk).select_related("channel", "customer")
            for order in orders.order_by("pk"):
                try:
                    accept(order=order, actor=actor)
                except DomainError as exc:
                    raise CsvFileError(
                        [RowError(0, "", order.number, f"{order.number}: {exc.message}")]
                    ) from exc
                if order.status == Order.Status.CONFIRMED:
                    result.extra["confirmed"] += 1
                elif order.status == Order.Status.ON_HOLD:
                    result.extra["held"] += 1


def _order_data(pk: int) -> dict:
    return webhooks.order_data(Order.objects.select_related("channel", "customer").get(pk=pk))
