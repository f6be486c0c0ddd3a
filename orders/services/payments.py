"""Payments: the payment ledger, the financial status, refunds and notes."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from kernel.actors import actor_name
from kernel.exceptions import Conflict, InvalidTransition
from kernel.money import quantize_money
from orders.exceptions import OrderInvalid
from orders.models import FINANCIAL_TRANSITIONS, Order, OrderEvent, Payment
from orders.services.timeline import EventKind, Status, _money, order_add_event, order_lock

# --------------------------------------------------------------------------- payments

FS = Order.FinancialStatus
PaymentKind = Payment.Kind


def payment_totals(order: Order) -> dict[str, Decimal]:
    """The order's payments summed per kind (every kind present, 0 when none)."""
    sums = dict(
        Payment.objects.filter(order=order)
        .order_by()
        .values_list("kind")
        .annotate(total=Sum("amount"))
    )
    return {kind: sums.get(kind) or Decimal("0") for kind in PaymentKind.values}


def _open_authorization(totals: dict[str, Decimal]) -> Decimal:
    """Authorised and neither captured nor voided yet."""
    return max(
        totals[PaymentKind.AUTHORIZED] - totals[PaymentKind.VOIDED] - totals[PaymentKind.CAPTURED],
        Decimal("0"),
    )


def financial_status_for(order: Order, totals: dict[str, Decimal]) -> str:
    """The payment state the payments make: refunds first, then what was captured
    against the total, then what is still authorised."""
    captured, refunded = totals[PaymentKind.CAPTURED], totals[PaymentKind.REFUNDED]
    if captured > 0:
        if refunded >= captured:
            return FS.REFUNDED
        if refunded > 0:
            return FS.PARTIALLY_REFUNDED
        return FS.PAID if captured >= order.total else FS.PARTIALLY_PAID
    if _open_authorization(totals) > 0:
        return FS.AUTHORIZED
    if totals[PaymentKind.AUTHORIZED] > 0:
        return FS.VOIDED
    return FS.PENDING


def refundable_amount(order: Order) -> Decimal:
    """What may still be refunded: captured minus already refunded."""
    totals = payment_totals(order)
    return max(totals[PaymentKind.CAPTURED] - totals[PaymentKind.REFUNDED], Decimal("0"))


def _payment_verb(kind: str) -> str:
    return {
        PaymentKind.AUTHORIZED: "Authorised",
        PaymentKind.CAPTURED: "Captured",
        PaymentKind.VOIDED: "Voided",
        PaymentKind.REFUNDED: "Refunded",
    }[kind]


@transaction.atomic
def payment_record(
    *,
    order: Order,
    kind: str,
    amount,
    method: str = "",
    reference: str = "",
    actor=None,
    message: str = "",
    locked: bool = False,
) -> Payment:
    """Record a payment transaction on the order (authorised, captured, voided or
    refunded money) with a ``payment`` event; ``financial_status`` follows the payments
    (``financial_status_for``). Refused with a conflict (409): a capture above the
    order's total, a void above the open authorisation, a refund above what was
    captured minus already refunded. Locks the order (unless ``locked``)."""
    if not locked:
        order_lock(order)
    if kind not in PaymentKind.values:
        raise OrderInvalid(f"Unknown payment kind {kind!r}", field="kind")
    amount = _money(amount, "amount", order.currency)
    if amount <= 0:
        raise OrderInvalid("amount must be greater than 0", field="amount")
    totals = payment_totals(order)
    cur = order.currency
    if kind in (PaymentKind.AUTHORIZED, PaymentKind.CAPTURED) and order.status == Status.CANCELLED:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move=f"record {kind}"
        )
    if kind == PaymentKind.CAPTURED:
        room = order.total - totals[PaymentKind.CAPTURED]
        if amount > room:
            raise Conflict(
                f"Capturing {amount} {cur} on {order.number} would exceed its total "
                f"({order.total} {cur}; {totals[PaymentKind.CAPTURED]} captured already)",
                field="amount",
            )
    elif kind == PaymentKind.VOIDED:
        room = _open_authorization(totals)
        if amount > room:
            raise Conflict(
                f"Voiding {amount} {cur} on {order.number}: only {room} {cur} is authorised "
                "and not yet captured",
                field="amount",
            )
    elif kind == PaymentKind.REFUNDED:
        room = totals[PaymentKind.CAPTURED] - totals[PaymentKind.REFUNDED]
        if room <= 0:
            raise InvalidTransition(
                entity="Order",
                number=order.number,
                current=order.financial_status,
                move="refund",
                detail="" if totals[PaymentKind.CAPTURED] else "nothing has been paid",
            )
        if amount > room:
            raise Conflict(
                f"Refund {amount} {cur} exceeds what is left to refund on {order.number} "
                f"({quantize_money(room, cur)} {cur}): captured "
                f"{quantize_money(totals[PaymentKind.CAPTURED], cur)}, refunded "
                f"{quantize_money(totals[PaymentKind.REFUNDED], cur)}",
                field="amount",
            )
    payment = Payment.objects.create(
        order=order,
        kind=kind,
        amount=amount,
        currency=cur,
        method=(method or "")[:64],
        reference=(reference or "")[:128],
        actor=actor_name(actor),
    )
    totals[kind] += amount
    previous = order.financial_status
    order.financial_status = financial_status_for(order, totals)
    fields = ["financial_status", "updated_at"]
    if kind == PaymentKind.REFUNDED:
        order.refunded_total = order.refunded_total + amount
        fields.append("refunded_total")
    order.save(update_fields=fields)
    details = ", ".join(p for p in (method, reference) if p)
    order_add_event(
        order=order,
        kind=EventKind.PAYMENT,
        actor=actor,
        message=message
        or f"{_payment_verb(kind)} {amount} {cur}"
        + (f" ({details})" if details else "")
        + (
            f"; payment {previous} -> {order.financial_status}"
            if previous != order.financial_status
            else ""
        ),
        data={
            "payment": payment.pk,
            "kind": kind,
            "amount": str(amount),
            "method": payment.method,
            "reference": payment.reference,
            "from": previous,
            "to": order.financial_status,
        },
    )
    return payment


@transaction.atomic
def order_set_financial_status(
    *, order: Order, status: str, actor=None, message: str = ""
) -> Order:
    """Move the payment state along FINANCIAL_TRANSITIONS with a ``payment`` event, for
    a source that reports a state rather than transactions (a channel, the 'mark paid'
    action): the payment that state implies is recorded with it: ``paid`` captures what
    is left of the total, ``authorized`` authorises it, ``voided`` voids the open
    authorisation. Refunds go through ``order_record_refund``."""
    if status not in FINANCIAL_TRANSITIONS[order.financial_status]:
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.financial_status,
            move=f"set payment to {status}",
        )
    totals = payment_totals(order)
    implied = None
    if status == FS.PAID:
        implied = (PaymentKind.CAPTURED, order.total - totals[PaymentKind.CAPTURED])
    elif status == FS.AUTHORIZED:
        implied = (PaymentKind.AUTHORIZED, order.total - _open_authorization(totals))
    elif status == FS.VOIDED:
        implied = (PaymentKind.VOIDED, _open_authorization(totals))
    previous = order.financial_status
    data = {"from": previous, "to": status}
    if implied is not None and implied[1] > 0:
        payment = Payment.objects.create(
            order=order,
            kind=implied[0],
            amount=implied[1],
            currency=order.currency,
            method=order.channel.code if order.channel_id else "",
            actor=actor_name(actor),
        )
        data.update(payment=payment.pk, kind=payment.kind, amount=str(payment.amount))
    order.financial_status = status
    order.save(update_fields=["financial_status", "updated_at"])
    order_add_event(
        order=order,
        kind=EventKind.PAYMENT,
        actor=actor,
        message=message or f"Payment {previous} -> {status}",
        data=data,
    )
    return order


@transaction.atomic
def order_mark_paid(*, order: Order, actor=None) -> Order:
    order_lock(order)
    if order.status == Status.CANCELLED:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="mark paid"
        )
    return order_set_financial_status(order=order, status=FS.PAID, actor=actor)


@transaction.atomic
def order_add_note(*, order: Order, message: str, actor=None, public: bool = False) -> OrderEvent:
    message = (message or "").strip()
    if not message:
        raise OrderInvalid("A note needs text", field="message")
    return order_add_event(
        order=order, kind=EventKind.NOTE, message=message, actor=actor, public=public
    )


@transaction.atomic
def order_record_refund(
    *, order: Order, amount: Decimal, actor=None, method: str = "", reference: str = ""
) -> Order:
    """Refund ``amount`` (never above what was captured minus already refunded: a
    conflict otherwise) as a ``refunded`` payment; the refunded total and the financial
    status follow. Called by ``returns.services.refund_create``; locks the order."""
    order_lock(order)
    amount = _money(amount, "amount", order.currency)
    if amount <= 0:
        raise OrderInvalid("amount must be greater than 0", field="amount")
    payment_record(
        order=order,
        kind=PaymentKind.REFUNDED,
        amount=amount,
        method=method,
        reference=reference,
        actor=actor,
        locked=True,
        message=f"Refunded {amount} {order.currency} "
        f"(total refunded {quantize_money(order.refunded_total + amount, order.currency)})",
    )
    return order
