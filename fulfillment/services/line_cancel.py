"""Cancelling some lines, or some units of them, with a reason.

One transaction with the order locked (``order_locks``): the units' reservations are
released from the shipments not yet picked (ledger ``release``; a shipment left empty is
cancelled), ``quantity_cancelled`` counts them, the totals follow, and the order's
statuses with them: every unit cancelled cancels the order
(``orders.services.order_cancel``), every other unit shipped makes it shipped. The refund
due (what was paid beyond what the order is now worth, never more than was paid) is in
the answer and in the event; refunding it is a separate step (returns' refunds).
"""

from collections.abc import Sequence

from django.db import transaction

from fulfillment.services.order_locks import (
    follow_payment,
    lock_order_for_change,
    order_balance,
    payment_moved_text,
    recompute_totals,
    release_units,
)
from kernel import webhooks
from kernel.db import retry_on_conflict
from kernel.money import quantize_money
from orders import services as order_services
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderEvent, OrderLine
from orders.notifications import ORDER_EDITED, notify_customer


@retry_on_conflict
@transaction.atomic
def order_cancel_lines(*, order: Order, lines: Sequence[dict], reason: str, actor=None) -> dict:
    """Cancel ``lines`` [{"line": id, "quantity": n?}] (all the line's open units when
    ``quantity`` is left out) with ``reason``. Refused (400) for more units than are open
    (neither shipped nor cancelled), (409) for a line whose picking has started or an
    order that shipped or was cancelled. Returns {"order", "changes", "event",
    "refund_due", "balance"}. Locks: see ``order_locks``."""
    reason = (reason or "").strip()
    if not reason:
        raise OrderInvalid("Say why the lines are cancelled", field="reason")
    if not lines:
        raise OrderInvalid("Choose at least one line to cancel", field="lines")
    locked = lock_order_for_change(order, move="cancel lines")
    order = locked.order
    cur = order.currency
    total_before = order.total
    tax_before = order.tax_total
    changes: list[str] = []
    data: list[dict] = []
    seen: set[int] = set()
    for i, item in enumerate(lines):
        line = locked.lines.get(getattr(item.get("line"), "pk", item.get("line")))
        if line is None:
            raise OrderInvalid(
                f"Line {item.get('line')} is not on {order.number}", field=f"lines[{i}].line"
            )
        if line.pk in seen:
            raise OrderInvalid(f"{line.sku} is named twice", field=f"lines[{i}].line")
        seen.add(line.pk)
        units = item.get("quantity")
        if units is None:
            units = line.quantity_open
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise OrderInvalid("must be a whole number, at least 1", field=f"lines[{i}].quantity")
        if units > line.quantity_open:
            raise OrderInvalid(
                f"{line.sku}: only {line.quantity_open} unit(s) are open (ordered "
                f"{line.quantity}, shipped {line.quantity_shipped}, cancelled "
                f"{line.quantity_cancelled})",
                field=f"lines[{i}].quantity",
            )
        locked.require_unlocked(line, f"cancel {line.sku}")
        moved = release_units(locked, line, units, note=f"cancelled: {reason}", actor=actor)
        line.quantity_cancelled += units
        changes.append(f"{line.sku} x{units} cancelled")
        data.append(
            {
                "line": line.pk,
                "sku": line.sku,
                "quantity": units,
                "stock": moved,
                "value": str(line.paid_for(units, currency=cur)),
            }
        )
    all_lines = list(locked.lines.values())
    OrderLine.objects.bulk_update(all_lines, ["quantity_cancelled", "quantity_allocated"])
    whole = all(line.quantity_open == 0 for line in all_lines) and not any(
        line.quantity_shipped for line in all_lines
    )
    paid_moved = None
    if whole:
        order_services.order_cancel(order=order, reason=reason, actor=actor)
    else:
        recompute_totals(locked)
        paid_moved = follow_payment(order)  # partially paid, now paid in full
        order_services.order_sync_progress(order=order, lines=all_lines, actor=actor)
    balance = order_balance(order)
    refund_due = quantize_money(balance["refund_due"], cur)
    event = order_services.order_add_event(
        order=order,
        kind=OrderEvent.Kind.EDITED,
        actor=actor,
        public=True,
        message=f"Cancelled by {_who(actor)} ({reason}): "
        + ", ".join(changes)
        + (f"; tax {tax_before} -> {order.tax_total}" if order.tax_total != tax_before else "")
        + (f"; total {total_before} -> {order.total}" if order.total != total_before else "")
        + ("; every line is cancelled, so the order is" if whole else "")
        + (f"; {payment_moved_text(paid_moved)}" if paid_moved else "")
        + (f"; refund due {refund_due} {cur}" if refund_due else "")
        + "".join(f". {m}" for d in data for m in d["stock"]),
        data={
            "change": "cancel_lines",
            "reason": reason,
            "lines": data,
            "totals": {
                "tax_total": [str(tax_before), str(order.tax_total)],
                "total": [str(total_before), str(order.total)],
            },
            **({"tax_basis": locked.tax_basis} if locked.tax_basis else {}),
            "refund_due": str(refund_due),
            "order_cancelled": whole,
            "financial_status": paid_moved,
        },
    )
    if not whole:  # a whole cancellation published order.cancelled already
        webhooks.publish_order("order.updated", order, changes=changes)
    notify_customer(order=order, kind=ORDER_EDITED, reference=str(event.pk))
    return {
        "order": order,
        "changes": changes,
        "event": event,
        "refund_due": refund_due,
        "balance": balance,
    }


def _who(actor) -> str:
    from kernel.actors import actor_name

    return actor_name(actor)
