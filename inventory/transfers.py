"""Transfers between points, with the stock in transit.

States (``Transfer.Status``, moves in ``TRANSFER_TRANSITIONS``)::

    draft -> in_transit -> partially_received -> received
    draft -> cancelled

``transfer_dispatch`` takes the units off the source's ``on_hand`` (``transfer_out``,
reference = the transfer number): from then on they are in transit, counted on the
lines (``quantity - quantity_received - quantity_lost``). ``transfer_receive`` puts what
arrived on the destination's ``on_hand`` (``transfer_in``, which offers it to
backordered orders after commit) and records what was lost on the way; the transfer is
received once every unit is accounted for. ``transit_ledger_mismatches`` (in
``inventory.selectors``, run by ``manage.py check_stock_ledger``) checks that each
line's dispatched and received units equal the sums of its ledger rows.

Stock is written only through ``inventory.services.stock_apply``. Locking: the transfer
row first, then the stock levels in primary-key order.
"""

from collections.abc import Iterable, Sequence
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.exceptions import StockError
from inventory.models import Product, Transfer, TransferEvent, TransferLine, Warehouse
from inventory.services import StockChange, _check_quantity, stock_apply
from kernel.actors import actor_name
from kernel.exceptions import InvalidTransition
from kernel.numbering import next_number

Status = Transfer.Status
TRANSFER_TRANSITIONS = {
    Status.DRAFT: {Status.IN_TRANSIT, Status.CANCELLED},
    Status.IN_TRANSIT: {Status.PARTIALLY_RECEIVED, Status.RECEIVED},
    Status.PARTIALLY_RECEIVED: {Status.PARTIALLY_RECEIVED, Status.RECEIVED},
    Status.RECEIVED: set(),
    Status.CANCELLED: set(),
}
MAX_LINES = 500


def _event(transfer: Transfer, kind: str, message: str, actor=None, **data) -> TransferEvent:
    return TransferEvent.objects.create(
        transfer=transfer, kind=kind, message=message[:500], data=data, actor=actor_name(actor)
    )


def _transition(transfer: Transfer, new: str, move: str, *, fields=()) -> None:
    if new not in TRANSFER_TRANSITIONS[transfer.status]:
        raise InvalidTransition(
            entity="Transfer", number=transfer.number, current=transfer.status, move=move
        )
    transfer.status = new
    transfer.save(update_fields=["status", "updated_at", *fields])


def _lock(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("source", "destination")
        .get(pk=transfer.pk)
    )


@transaction.atomic
def transfer_create(
    *,
    source: Warehouse,
    destination: Warehouse,
    lines: Sequence[dict],
    expected_date: date | None = None,
    notes: str = "",
    actor=None,
) -> Transfer:
    """A draft transfer of ``lines`` (dicts with ``product`` and ``quantity``). Nothing
    moves until it is dispatched. Takes no locks."""
    if source.pk == destination.pk:
        raise StockError("Source and destination must differ", field="destination")
    if not destination.active:
        raise StockError(f"Warehouse {destination.code} is inactive", field="destination")
    if not lines:
        raise StockError("A transfer needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise StockError(f"At most {MAX_LINES} lines", field="lines")
    products = [line["product"] for line in lines]
    if len({p.pk for p in products}) != len(products):
        raise StockError("Each product may appear once on a transfer", field="lines")
    for line in lines:
        _check_quantity(line.get("quantity"))
    transfer = Transfer.objects.create(
        number=next_number("transfer"),
        source=source,
        destination=destination,
        expected_date=expected_date,
        notes=notes,
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(transfer=transfer, product=x["product"], quantity=x["quantity"])
            for x in lines
        ]
    )
    _event(
        transfer,
        "created",
        f"Draft {source.code} -> {destination.code}: "
        + ", ".join(f"{x['product'].sku} x{x['quantity']}" for x in lines),
        actor,
    )
    return transfer


@transaction.atomic
def transfer_dispatch(
    *, transfer: Transfer, expected_date: date | None = None, actor=None
) -> Transfer:
    """draft -> in_transit: every line leaves the source's on_hand (``transfer_out``).
    Refused whole (InsufficientStock) when a line needs units that are reserved for
    orders or not there. Locks the transfer, then the source levels in pk order."""
    transfer = _lock(transfer)
    if transfer.status != Status.DRAFT:
        raise InvalidTransition(
            entity="Transfer", number=transfer.number, current=transfer.status, move="dispatch"
        )
    if not transfer.destination.active:
        raise StockError(f"Warehouse {transfer.destination.code} is inactive", field="destination")
    lines = list(transfer.lines.select_related("product").order_by("product_id"))
    stock_apply(
        changes=[
            StockChange(
                line.product_id,
                transfer.source_id,
                "transfer_out",
                -line.quantity,
                0,
                transfer.number,
                f"to {transfer.destination.code}",
            )
            for line in lines
        ],
        actor=actor,
    )
    transfer.dispatched_at = timezone.now()
    fields = ["dispatched_at"]
    if expected_date:
        transfer.expected_date = expected_date
        fields.append("expected_date")
    _transition(transfer, Status.IN_TRANSIT, "dispatch", fields=fields)
    when = f", expected {transfer.expected_date:%d %b}" if transfer.expected_date else ""
    _event(
        transfer,
        "dispatched",
        f"Dispatched from {transfer.source.code}: {sum(x.quantity for x in lines)} unit(s) "
        f"in transit to {transfer.destination.code}{when}",
        actor,
    )
    return transfer


@transaction.atomic
def transfer_receive(
    *,
    transfer: Transfer,
    received: Iterable[tuple[Product, int]] = (),
    lost: Iterable[tuple[Product, int]] = (),
    note: str = "",
    actor=None,
) -> Transfer:
    """Units arrive at the destination (``transfer_in``) and/or are recorded lost on the
    way, each at most what is still in transit on its line. Received once nothing is
    in transit any more. Locks the transfer, then the destination levels in pk order."""
    transfer = _lock(transfer)
    if transfer.status not in Transfer.IN_TRANSIT_STATUSES:
        raise InvalidTransition(
            entity="Transfer", number=transfer.number, current=transfer.status, move="receive"
        )
    lines = {line.product_id: line for line in transfer.lines.select_related("product")}
    arrived: dict[int, int] = {}
    missing: dict[int, int] = {}
    for target, pairs, field in ((arrived, received, "received"), (missing, lost, "lost")):
        for product, quantity in pairs:
            if not quantity:
                continue
            _check_quantity(quantity, field=field)
            if product.pk not in lines:
                raise StockError(f"{product.sku} is not on {transfer.number}", field="sku")
            target[product.pk] = target.get(product.pk, 0) + quantity
    if not arrived and not missing:
        raise StockError("Nothing received or lost", field="quantity")
    for pid, line in lines.items():
        wanted = arrived.get(pid, 0) + missing.get(pid, 0)
        if wanted > line.in_transit:
            raise StockError(
                f"{line.product.sku}: {wanted} received or lost but only {line.in_transit} "
                f"in transit on {transfer.number}",
                field="quantity",
                sku=line.product.sku,
                in_transit=line.in_transit,
            )
    stock_apply(
        changes=[
            StockChange(
                pid,
                transfer.destination_id,
                "transfer_in",
                qty,
                0,
                transfer.number,
                f"from {transfer.source.code}" + (f"; {note}" if note else ""),
            )
            for pid, qty in sorted(arrived.items())
        ],
        actor=actor,
        create_missing=True,
    )
    parts = []
    for pid, line in sorted(lines.items()):
        got, gone = arrived.get(pid, 0), missing.get(pid, 0)
        if not got and not gone:
            continue
        TransferLine.objects.filter(pk=line.pk).update(
            quantity_received=F("quantity_received") + got, quantity_lost=F("quantity_lost") + gone
        )
        line.quantity_received += got
        line.quantity_lost += gone
        parts.append(
            f"{line.product.sku} x{got}"
            + (f", {gone} lost" if gone else "")
            + (f" ({line.in_transit} still in transit)" if line.in_transit else "")
        )
    done = all(line.in_transit == 0 for line in lines.values())
    fields = []
    if done:
        transfer.closed_at = timezone.now()
        fields.append("closed_at")
    _transition(
        transfer, Status.RECEIVED if done else Status.PARTIALLY_RECEIVED, "receive", fields=fields
    )
    _event(
        transfer,
        "received",
        f"At {transfer.destination.code}: " + "; ".join(parts),
        actor,
        received={lines[p].product.sku: q for p, q in arrived.items()},
        lost={lines[p].product.sku: q for p, q in missing.items()},
    )
    if missing:
        _event(
            transfer,
            "lost",
            "Lost in transit: "
            + ", ".join(f"{lines[p].product.sku} x{q}" for p, q in sorted(missing.items()))
            + (f" ({note})" if note else ""),
            actor,
            lost={lines[p].product.sku: q for p, q in missing.items()},
        )
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, reason: str = "", actor=None) -> Transfer:
    """draft -> cancelled (a dispatched transfer is received or recorded lost instead)."""
    transfer = _lock(transfer)
    transfer.closed_at = timezone.now()
    _transition(transfer, Status.CANCELLED, "cancel", fields=["closed_at"])
    _event(transfer, "cancelled", "Cancelled" + (f": {reason}" if reason else ""), actor)
    return transfer
