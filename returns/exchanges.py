"""Exchanges: a return line that asks for a replacement (the same SKU or another).

Approving the RMA (``returns.services.return_approve``) places one replacement order
through the one placement path (``fulfillment.services.intake.order_place_and_confirm``)
on the dedicated channel ``exchange``, with the RMA number as its external id: placing
it again returns the same order, and ``ReturnRequest.replacement_order`` (one to one)
links the two. A dedicated channel, not the original order's, because

- the original channel's ids belong to the platform (a marketplace or shop order id
  could be ``RMA-000012``), and a platform connection would push the fulfillment of an
  order the platform never had;
- the original channel's auto-confirm rules (payment required, limits) are for new
  sales; a replacement was reviewed by the manager who approved the return;
- sales by channel stay sales: no zero-value orders in them.

The replacement ships to the original order's address, for the original customer, in
its currency: free for the same SKU; for another SKU, each unit costs what its list
price is above what was paid for a returned unit (never less than nothing: a cheaper
replacement leaves the difference to the refund, see ``exchange_credit``).

When it ships is the original channel's ``ExchangePolicy``: before the return arrives
(confirmed and routed on approval) or, by default, after (held, naming the return, and
released, confirmed and routed by ``return_receive``).

Locks: called inside the return services, which hold the original order and the RMA;
the new order is only visible to this transaction; routing locks its stock levels.
"""

from decimal import Decimal

from django.db.models import Sum

from fulfillment.services.allocation import order_confirm_and_allocate
from fulfillment.services.intake import order_approve_held, order_place_and_confirm
from inventory.models import Product
from kernel.exceptions import Conflict
from kernel.money import quantize_money
from orders import services as order_services
from orders.models import Channel, Order, OrderEvent, OrderLine
from returns.exceptions import ReturnInvalid
from returns.models import ExchangePolicy, ReturnLine, ReturnRequest

EXCHANGE_CHANNEL = "exchange"
NO_EXCHANGE_STATUSES = (Order.FinancialStatus.REFUNDED, Order.FinancialStatus.VOIDED)


def exchange_channel() -> Channel:
    """The channel replacement orders are placed on (made on first use; its routing,
    handling days and activity are set in the admin like any channel's)."""
    channel, _ = Channel.objects.get_or_create(
        code=EXCHANGE_CHANNEL,
        defaults={"name": "Exchanges", "kind": Channel.Kind.PHONE, "auto_confirm": False},
    )
    return channel


def ships_before_return(channel: Channel) -> bool:
    policy = ExchangePolicy.objects.filter(channel=channel).first()
    return bool(policy and policy.ship_before_return)


def hold_reason(rma: ReturnRequest) -> str:
    return f"Exchange: ships when return {rma.number} is received"


def exchange_parse(
    *, order: Order, order_line: OrderLine, line: dict, quantity: int, index: int
) -> tuple[Product | None, int]:
    """The replacement a return line asks for (``replacement_sku`` or
    ``replacement_product``, ``replacement_quantity``, default: as many as come back):
    (None, 0) for a plain return. Refuses unknown or inactive SKUs, a quantity above what
    comes back, and (a conflict) an exchange on an order whose payment was refunded or
    voided: nothing paid is left to exchange."""
    product = line.get("replacement_product")
    sku = str(line.get("replacement_sku") or "").strip()
    given = line.get("replacement_quantity")
    field = f"lines[{index}]"
    if product is None and not sku:
        if given not in (None, "", 0):
            raise ReturnInvalid(
                "replacement_quantity needs a replacement_sku",
                field=f"{field}.replacement_sku",
            )
        return None, 0
    if product is None:
        product = Product.objects.filter(sku=sku).first()
    if product is None or not product.active:
        raise ReturnInvalid(
            f"Unknown or inactive SKU {sku or product.sku!r}", field=f"{field}.replacement_sku"
        )
    replacement_quantity = quantity if given in (None, "") else given
    if (
        isinstance(replacement_quantity, bool)
        or not isinstance(replacement_quantity, int)
        or not 1 <= replacement_quantity <= quantity
    ):
        raise ReturnInvalid(
            f"{order_line.sku}: replacement_quantity must be 1..{quantity} "
            "(at most as many as come back)",
            field=f"{field}.replacement_quantity",
        )
    if order.financial_status in NO_EXCHANGE_STATUSES:
        raise Conflict(
            f"Order {order.number} is {order.financial_status}; cannot exchange",
            field=f"{field}.replacement_sku",
        )
    channel = exchange_channel()
    if not channel.active:
        raise Conflict(
            f"Exchanges are switched off (channel {channel.code} is inactive)",
            field=f"{field}.replacement_sku",
        )
    return product, replacement_quantity


def _paid_per_unit(line: ReturnLine, currency: str) -> Decimal:
    ol = line.order_line
    return ol.paid_for(line.quantity, currency=currency) / line.quantity


def replacement_unit_price(line: ReturnLine, currency: str) -> Decimal:
    """Free for the same SKU; for another, its list price above what a returned unit
    was paid (never below nothing)."""
    if line.replacement_product_id == line.order_line.product_id:
        return quantize_money(Decimal("0"), currency)
    difference = line.replacement_product.price - _paid_per_unit(line, currency)
    return quantize_money(max(difference, Decimal("0")), currency)


def exchange_credit(rma: ReturnRequest) -> Decimal:
    """What of the received goods' value went to their replacements (so is not
    refunded): per replaced unit received, what it was paid, or the replacement's list
    price when that is lower."""
    currency = rma.order.currency
    credit = Decimal("0")
    for line in rma.lines.select_related("order_line", "replacement_product"):
        units = min(line.quantity_received, line.replacement_quantity)
        if not line.is_exchange or not units:
            continue
        paid = line.order_line.paid_for(units, currency=currency)
        if line.replacement_product_id != line.order_line.product_id:
            paid = min(paid, line.replacement_product.price * units)
        credit += paid
    return quantize_money(credit, currency)


def exchange_place(*, rma: ReturnRequest, actor=None) -> Order | None:
    """Place the replacement order of an approved RMA with exchange lines (None without
    any); the RMA's replacement_order afterwards. Idempotent: an RMA that has its
    replacement keeps it, and the external id (the RMA number) replays to it."""
    if rma.replacement_order_id:
        return rma.replacement_order
    lines = [
        rl
        for rl in rma.lines.select_related("order_line__product", "replacement_product")
        if rl.is_exchange
    ]
    if not lines:
        return None
    original = rma.order
    currency = original.currency
    order_lines = []
    for rl in lines:
        order_lines.append(
            {
                "product": rl.replacement_product,
                "quantity": rl.replacement_quantity,
                "unit_price": replacement_unit_price(rl, currency),
            }
        )
    customer = original.customer
    total = sum((ln["unit_price"] * ln["quantity"] for ln in order_lines), Decimal("0"))
    replacement, _ = order_place_and_confirm(
        channel=exchange_channel(),
        external_id=rma.number,
        lines=order_lines,
        customer={"email": customer.email, "name": customer.name, "phone": customer.phone}
        if customer
        else None,
        shipping_address={
            k: getattr(original, f"ship_{k}")
            for k in ("name", "line1", "line2", "city", "region", "postcode", "country", "phone")
        },
        currency=currency,
        financial_status=Order.FinancialStatus.PENDING if total else Order.FinancialStatus.PAID,
        notes=f"Replacement for {original.number} (return {rma.number})",
        actor=actor,
    )
    rma.replacement_order = replacement
    rma.save(update_fields=["replacement_order"])
    summary = ", ".join(
        f"{rl.order_line.sku} -> {rl.replacement_product.sku} x{rl.replacement_quantity}"
        for rl in lines
    )
    order_services.order_add_event(
        order=original,
        kind=OrderEvent.Kind.NOTE,
        message=f"Replacement order {replacement.number} for return {rma.number}: {summary}",
        actor=actor,
        data={"return": rma.number, "replacement_order": replacement.number},
    )
    if replacement.status == Order.Status.PENDING:
        if ships_before_return(original.channel):
            order_confirm_and_allocate(order=replacement, actor=actor)
        else:
            order_services.order_hold(
                order=replacement,
                reason=hold_reason(rma),
                actor=actor,
                data={"return": rma.number, "original_order": original.number},
            )
    return replacement


def exchange_release(*, rma: ReturnRequest, actor=None) -> Order | None:
    """After the return is received: a replacement still held for it is released,
    confirmed and routed, when something of the exchanged lines came back; otherwise
    it stays held and the order says why."""
    replacement = rma.replacement_order
    if replacement is None:
        return None
    order_services.order_lock(replacement)
    if replacement.status != Order.Status.ON_HOLD or replacement.hold_reason != hold_reason(rma):
        return replacement
    received = rma.lines.filter(replacement_product__isnull=False).aggregate(
        units=Sum("quantity_received")
    )["units"]
    if not received:
        order_services.order_add_note(
            order=replacement,
            message=f"Return {rma.number} was received without the exchanged items; still held",
            actor=actor,
        )
        return replacement
    order_approve_held(order=replacement, actor=actor)
    return replacement
