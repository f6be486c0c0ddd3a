"""Editing an order to match the platform's: address, lines, totals, payment state."""

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from django.db import transaction

from intake.inbound.common import MappedOrder
from intake.inbound.services.outcomes import (
    ADDRESS_FIELDS,
    FS,
    HOLD_PREFIX,
    EditRefused,
    ResolvedLine,
    _note,
    _platform,
)
from kernel.exceptions import DomainError
from kernel.money import quantize_money
from orders import services as order_services
from orders.exceptions import OrderInvalid
from orders.models import FINANCIAL_TRANSITIONS, Order, OrderLine

# --------------------------------------------------------------------------- edits


def _address_changes(order: Order, address: dict) -> list[str]:
    return [k for k in ADDRESS_FIELDS if getattr(order, f"ship_{k}") != (address.get(k) or "")]


def _apply_address(order: Order, address: dict) -> list[str]:
    changed = _address_changes(order, address)
    if not changed:
        return []
    for k in changed:
        setattr(order, f"ship_{k}", address.get(k) or "")
    order.save(update_fields=[f"ship_{k}" for k in changed] + ["updated_at"])
    return ["address (" + ", ".join(changed) + ")"]


def _lines_of(order: Order, *, lock: bool = True) -> list[OrderLine]:
    lines = OrderLine.objects.filter(order=order).select_related("product").order_by("pk")
    if lock:
        lines = lines.select_for_update(of=("self",))
    return list(lines)


def _line_key(line: OrderLine) -> str:
    return line.sku or f"title:{line.name}"


def _line_plan(
    current: list[OrderLine], wanted_lines: list[ResolvedLine], currency: str | None = None
) -> list[tuple]:
    """The operations that make the open quantities ``wanted_lines``: ("cancel", line,
    n), ("add", line, n), ("price", line, price), ("remap", line, product), ("new",
    resolved line)."""
    wanted: dict[str, ResolvedLine] = {}
    for line in wanted_lines:
        if line.key in wanted:
            wanted[line.key] = replace(
                wanted[line.key],
                quantity=wanted[line.key].quantity + line.quantity,
                discount_total=wanted[line.key].discount_total + line.discount_total,
            )
        else:
            wanted[line.key] = line
    by_key: dict[str, list[OrderLine]] = defaultdict(list)
    for line in current:
        by_key[_line_key(line)].append(line)
    plan: list[tuple] = []
    for key in [*by_key, *(k for k in wanted if k not in by_key)]:
        want = wanted.get(key)
        have = by_key.get(key, [])
        live = [line for line in have if line.quantity > line.quantity_cancelled]
        open_units = sum(line.quantity - line.quantity_cancelled for line in have)
        remapped = set()
        if want is not None and live:
            if want.placeholder:
                # the product went unknown or inactive since: the lines keep theirs (the
                # order is held with the reason)
                want = replace(want, product=live[-1].product)
            for line in live:
                if line.product_id != want.product.pk:
                    # a placeholder line whose SKU now exists: it becomes that product
                    # (placeholder lines are never allocated, so no stock moves)
                    plan.append(("remap", line, want.product))
                    remapped.add(line.pk)
        surplus = open_units - (want.quantity if want is not None else 0)
        for line in reversed(live):
            if surplus <= 0:
                break
            n = min(surplus, line.quantity - line.quantity_cancelled)
            plan.append(("cancel", line, n))
            surplus -= n
        if surplus < 0:
            if have and (have[-1].product_id == want.product.pk or have[-1].pk in remapped):
                plan.append(("add", have[-1], -surplus))
            else:
                plan.append(("new", replace(want, quantity=-surplus)))
        if want is not None:
            plan += [
                ("price", line, want.unit_price)
                for line in live
                if line.unit_price != want.unit_price
            ]
            # the platform's discount on the line, when one line carries all of it
            if (
                len(live) == 1
                and live[0].quantity - live[0].quantity_cancelled == want.quantity
                and live[0].discount_total != _discount_for(live[0], want, currency)
            ):
                plan.append(("discount", live[0], _discount_for(live[0], want, currency)))
    return plan


def _discount_for(line: OrderLine, want: ResolvedLine, currency: str | None) -> Decimal:
    """The platform's discount for the line's open units, as the whole line's discount
    (cancelled units keep their share), never above the line's value."""
    open_units = line.quantity - line.quantity_cancelled
    if not open_units:
        return line.discount_total
    per_unit = want.discount_total / want.quantity if want.quantity else Decimal("0")
    discount = quantize_money(per_unit * line.quantity, currency)
    return min(discount, want.unit_price * line.quantity)


def _apply_lines(order: Order, mapped: MappedOrder, lines: list[ResolvedLine], actor) -> list[str]:
    """Apply the platform's lines and the shipping and tax totals; routes a confirmed
    order again when quantities changed. Returns what changed."""
    from fulfillment.services.allocation import order_allocate

    changes = []
    if not mapped.lines:
        return changes  # a payload without lines does not empty an order
    plan = _line_plan(_lines_of(order, lock=True), lines, order.currency)
    quantities_change = any(op[0] not in ("price", "discount") for op in plan)
    if quantities_change:
        new_products = {op[1].product.pk for op in plan if op[0] == "new"}
        _release_open_shipments(order, new_products, mapped, actor)
    if plan:
        fresh = {line.pk: line for line in _lines_of(order, lock=True)}
        new_rows = []
        for op in plan:
            kind = op[0]
            if kind == "new":
                want = op[1]
                product = want.product
                new_rows.append(
                    OrderLine(
                        order=order,
                        product=product,
                        sku=(want.sku if want.placeholder else product.sku)[:64],
                        name=((want.title or want.sku) if want.placeholder else product.name)[:255],
                        quantity=want.quantity,
                        unit_price=want.unit_price,
                        discount_total=min(want.discount_total, want.unit_price * want.quantity),
                    )
                )
                changes.append(f"added {want.sku or want.title} x{want.quantity}")
                continue
            line = fresh[op[1].pk]
            if kind == "cancel":
                line.quantity_cancelled += op[2]
                changes.append(f"{line.sku or line.name} -{op[2]}")
            elif kind == "add":
                line.quantity += op[2]
                changes.append(f"{line.sku or line.name} +{op[2]}")
            elif kind == "remap":
                product = op[2]
                changes.append(f"{line.sku or line.name} is now product {product.sku}")
                line.product, line.sku, line.name = product, product.sku, product.name
            elif kind == "price":
                changes.append(f"{line.sku or line.name} price {line.unit_price} -> {op[2]}")
                line.unit_price = op[2]
            elif kind == "discount":
                changes.append(f"{line.sku or line.name} discount {line.discount_total} -> {op[2]}")
                line.discount_total = op[2]
        for line in fresh.values():  # a lower price leaves no room for a larger discount
            line.discount_total = min(line.discount_total, line.unit_price * line.quantity)
        OrderLine.objects.bulk_update(
            list(fresh.values()),
            [
                "product",
                "sku",
                "name",
                "quantity",
                "quantity_cancelled",
                "unit_price",
                "discount_total",
            ],
        )
        OrderLine.objects.bulk_create(new_rows)
    changes += _apply_totals(order, mapped)
    if quantities_change:
        order_services.order_sync_progress(order=order, lines=_lines_of(order), actor=actor)
        order_allocate(order=order, actor=actor)
    return changes


def _release_open_shipments(order: Order, new_products: set[int], mapped: MappedOrder, actor):
    """Cancel the order's open shipments (their reservations are released) so its lines
    can change; refused once one of them is being picked."""
    from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment
    from fulfillment.services.shipments import shipment_cancel
    from inventory.services import stock_lock_levels

    shipments = list(order.shipments.filter(status__in=OPEN_SHIPMENT_STATUSES).order_by("pk"))
    started = [s.number for s in shipments if s.status != Shipment.Status.ALLOCATED]
    if started:
        raise EditRefused(
            f"{HOLD_PREFIX}{_platform(mapped)} changed the items of {mapped.label} after "
            f"picking started ({', '.join(started)}); apply the change by hand"
        )
    if not shipments:
        return
    # Every level the release and the re-routing touch, at once, in pk order.
    product_ids = set(order.lines.values_list("product_id", flat=True)) | new_products
    stock_lock_levels(product_ids=product_ids)
    for shipment in shipments:
        shipment_cancel(
            shipment=shipment,
            reason=f"order edited on {_platform(mapped)}",
            actor=actor,
            reallocate=False,
        )


def _apply_totals(order: Order, mapped: MappedOrder) -> list[str]:
    changes = []
    if order.shipping_total != mapped.shipping_total:
        changes.append(f"shipping {order.shipping_total} -> {mapped.shipping_total}")
    if order.tax_total != mapped.tax_total:
        changes.append(f"tax {order.tax_total} -> {mapped.tax_total}")
    cur = order.currency
    subtotal, discount = Decimal("0"), Decimal("0")
    for line in OrderLine.objects.filter(order=order):
        open_units = line.quantity - line.quantity_cancelled
        subtotal += line.unit_price * open_units
        # cancelled units take their share of the line's discount with them
        discount += line.discount_total * open_units / line.quantity
    subtotal, discount = quantize_money(subtotal, cur), quantize_money(max(discount, 0), cur)
    total = quantize_money(subtotal - discount + mapped.shipping_total + mapped.tax_total, cur)
    if (subtotal, discount, total) == (
        order.subtotal,
        order.discount_total,
        order.total,
    ) and not changes:
        return []
    if total < order.refunded_total:
        raise OrderInvalid(
            f"The edited total {total} would be below what was refunded ({order.refunded_total})"
        )
    order.subtotal, order.discount_total, order.total = subtotal, discount, total
    order.shipping_total, order.tax_total = mapped.shipping_total, mapped.tax_total
    order.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "total",
            "shipping_total",
            "tax_total",
            "updated_at",
        ]
    )
    return changes


def _sync_financial(order: Order, mapped: MappedOrder, actor) -> list[str]:
    """Move the payment state towards the platform's; a platform refund is recorded. What
    the rules refuse becomes a note on the order, not a failure of the delivery."""
    try:
        with transaction.atomic():
            return _apply_financial(order, mapped, actor)
    except DomainError as exc:
        order.refresh_from_db()
        _note(order, f"{_platform(mapped)} payment state not applied: {exc.message}", actor)
        return []


def _apply_financial(order: Order, mapped: MappedOrder, actor) -> list[str]:
    platform = _platform(mapped)
    target, current = mapped.financial_status, order.financial_status
    if target in (FS.REFUNDED, FS.PARTIALLY_REFUNDED):
        done = []
        if current in (FS.PENDING, FS.AUTHORIZED):
            order_services.order_set_financial_status(
                order=order, status=FS.PAID, actor=actor, message=f"Paid on {platform}"
            )
            done.append("payment paid")
        refunded = mapped.refunded_amount
        captured = order_services.payment_totals(order)[order_services.PaymentKind.CAPTURED]
        if refunded is None and target == FS.REFUNDED:
            refunded = captured
        amount = min(
            (refunded or Decimal("0")) - order.refunded_total, captured - order.refunded_total
        )
        if amount > 0 and order.financial_status in (FS.PAID, FS.PARTIALLY_REFUNDED):
            order_services.order_record_refund(order=order, amount=amount, actor=actor)
            done.append(f"refund of {amount} recorded")
        return done
    if target == current:
        return []
    if target in FINANCIAL_TRANSITIONS[current]:
        order_services.order_set_financial_status(
            order=order,
            status=target,
            actor=actor,
            message=f"Payment {current} -> {target} on {platform}",
        )
        return [f"payment {target}"]
    _note(order, f"{platform} reports the payment {target}; kept {current} here", actor)
    return []
