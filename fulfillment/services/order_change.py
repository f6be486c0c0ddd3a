"""Editing an order before picking: quantities, lines added and removed, the ship-to
address, the shipping service and price.

Each call is one transaction with the order locked (``order_locks`` says which locks,
in which order). It re-allocates only what changed: units given up are released from
the shipments not yet picked (ledger ``release``), new units are reserved (ledger
``reserve``) at the order's points or where routing sends them; an address that moves
the best point re-routes the unpicked shipments. The totals are recomputed, one
``edited`` event says what changed (before -> after) and who did it, the customer is
told (public step and e-mail) and ``order.updated`` is published. A line on a shipment
whose picking has started is locked: changing it is refused (409) and says why; the
order's other lines stay editable.
"""

import re
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from fulfillment.exceptions import Conflict
from fulfillment.models import CarrierService
from fulfillment.routing import Need
from fulfillment.services.order_locks import (
    Locked,
    follow_payment,
    lock_order_for_change,
    open_units,
    parse_money,
    payment_change_text,
    recompute_totals,
    release_units,
    reroute_for_address,
    reserve_units,
)
from inventory.models import Product
from kernel import webhooks
from kernel.db import retry_on_conflict
from kernel.money import quantize_money
from orders import services as order_services
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderEvent, OrderLine
from orders.notifications import ORDER_EDITED, notify_customer

ADDRESS_FIELDS = order_services.ADDRESS_FIELDS
REQUIRED_ADDRESS = ("name", "line1", "city", "country")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
MAX_LINE_QUANTITY = order_services.MAX_LINE_QUANTITY


def _whole(value, field: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OrderInvalid(f"must be a whole number, at least {minimum}", field=field)
    if value > MAX_LINE_QUANTITY:
        raise OrderInvalid(f"must be at most {MAX_LINE_QUANTITY}", field=field)
    return value


def _line(locked: Locked, line_id, field: str) -> OrderLine:
    line = locked.lines.get(getattr(line_id, "pk", line_id))
    if line is None:
        raise OrderInvalid(f"Line {line_id} is not on {locked.order.number}", field=field)
    return line


@retry_on_conflict
@transaction.atomic
def order_edit(
    *,
    order: Order,
    quantities: Sequence[dict] = (),
    add: Sequence[dict] = (),
    remove: Sequence = (),
    address: dict | None = None,
    service: str | None = None,
    shipping_total=None,
    tax_total=None,
    actor=None,
) -> dict:
    """Apply several edits at once: ``quantities`` [{"line": id, "quantity": n,
    "expected": n?}] (the line's ordered quantity becomes n; with ``expected``, refused
    (409) when someone else changed it meanwhile), ``add`` [{"sku", "quantity",
    "unit_price"?}] (at the product's price by default), ``remove`` [line ids] (its open
    units are cancelled; the row and its history stay), ``address`` (the ship-to
    fields), ``service`` ("carrier/service" for the shipments not yet picked) and
    ``shipping_total``. ``tax_total``: the new tax; by default the tax follows the goods
    at the order's effective rate.

    Returns {"order", "changes" (one text per change), "event"}: no event when nothing
    changed. Locks: see ``order_locks``."""
    skus = {str(item.get("sku") or "") for item in add}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    locked = lock_order_for_change(
        order, move="edit", product_ids={p.pk for p in products.values()}
    )
    order = locked.order
    before = _snapshot(order)
    changes: list[str] = []
    data: list[dict] = []
    needs: list[Need] = []
    dirty: dict[int, OrderLine] = {}
    note = "order edited"

    for i, item in enumerate(quantities):
        line = _line(locked, item.get("line"), f"quantities[{i}].line")
        wanted = _whole(item.get("quantity"), f"quantities[{i}].quantity")
        expected = item.get("expected")
        if expected is not None and expected != line.quantity:
            raise Conflict(
                f"{line.sku} was changed meanwhile: its quantity is now {line.quantity}, not "
                f"{expected}; reload and edit again",
                field=f"quantities[{i}].quantity",
            )
        if wanted == line.quantity:
            continue
        locked.require_unlocked(line, f"change the quantity of {line.sku}")
        floor = max(line.quantity_cancelled + line.quantity_shipped, line.quantity_cancelled + 1)
        if wanted < floor:
            raise OrderInvalid(
                f"{line.sku}: {line.quantity_cancelled} unit(s) are cancelled and "
                f"{line.quantity_shipped} shipped, so the quantity must be at least {floor} "
                "(remove the line to drop it)",
                field=f"quantities[{i}].quantity",
            )
        old = line.quantity
        moved = []
        if wanted < old:
            moved = release_units(locked, line, old - wanted, note=note, actor=actor)
            # the units given up take their share of the line's discount with them
            line.discount_total = quantize_money(line.discount_total * wanted / old, order.currency)
            line.quantity = wanted
        else:
            line.quantity = wanted
            needs.append(Need(line, wanted - old))
        dirty[line.pk] = line
        changes.append(f"{line.sku} quantity {old} -> {wanted}")
        data.append(
            {
                "change": "quantity",
                "line": line.pk,
                "sku": line.sku,
                "from": old,
                "to": wanted,
                "stock": moved,
            }
        )

    for i in remove:
        line = _line(locked, i, "remove")
        units = line.quantity_open
        if units <= 0:
            continue
        locked.require_unlocked(line, f"remove {line.sku}")
        moved = release_units(locked, line, units, note=note, actor=actor)
        line.quantity_cancelled += units
        dirty[line.pk] = line
        changes.append(f"{line.sku} removed ({units} unit(s))")
        data.append(
            {"change": "remove", "line": line.pk, "sku": line.sku, "units": units, "stock": moved}
        )

    new_lines = []
    for i, item in enumerate(add):
        product = products.get(str(item.get("sku") or ""))
        if product is None:
            raise OrderInvalid(f"Unknown SKU {item.get('sku')!r}", field=f"add[{i}].sku")
        if not product.active:
            raise OrderInvalid(f"SKU {product.sku} is inactive", field=f"add[{i}].sku")
        qty = _whole(item.get("quantity"), f"add[{i}].quantity")
        price = item.get("unit_price")
        unit_price = (
            quantize_money(product.price, order.currency)
            if price in (None, "")
            else parse_money(price, f"add[{i}].unit_price", order.currency)
        )
        new_lines.append(
            OrderLine(
                order=order,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=qty,
                unit_price=unit_price,
            )
        )
        changes.append(f"added {product.sku} x{qty} at {unit_price}")
        data.append(
            {"change": "add", "sku": product.sku, "quantity": qty, "unit_price": str(unit_price)}
        )
    if new_lines:
        OrderLine.objects.bulk_create(new_lines)
        for line in new_lines:
            locked.lines[line.pk] = line
            needs.append(Need(line, line.quantity))

    if not any(open_units(line) > 0 for line in locked.lines.values()):
        raise Conflict("An order needs at least one line: cancel the order instead", field="remove")
    if dirty:
        OrderLine.objects.bulk_update(
            list(dirty.values()),
            ["quantity", "quantity_cancelled", "quantity_allocated", "discount_total"],
        )
    # The address before the new units: they are reserved where the new address is best.
    if address is not None:
        changes += _apply_address(locked, address, data, actor=actor, note=note)
    moved = reserve_units(locked, needs, actor=actor, note=note)
    if moved:
        data.append({"change": "allocation", "stock": moved})
    if service is not None or shipping_total is not None:
        changes += _apply_shipping(locked, service, shipping_total, data)
    if tax_total is not None:
        tax_total = parse_money(tax_total, "tax_total", order.currency)

    paid_moved = None
    if changes or tax_total is not None:
        OrderLine.objects.bulk_update(list(locked.lines.values()), ["quantity_allocated"])
        recompute_totals(locked, tax_total=tax_total)
        paid_moved = follow_payment(order)
        if paid_moved:
            data.append({"change": "financial_status", **paid_moved})
        order_services.order_sync_progress(
            order=order, lines=list(locked.lines.values()), actor=actor
        )
    after = _snapshot(order)
    totals = [
        f"{k.replace('_', ' ')} {before[k]} -> {after[k]}"
        for k in before
        if before[k] != after[k] and k != "shipping_total"  # the shipping change names it
    ]
    if not changes and not totals:
        return {"order": order, "changes": [], "event": None}
    if after["total"] != before["total"] or paid_moved:
        payment = payment_change_text(order, paid_moved)  # a paid order's balance
        totals += [payment] if payment else []
    event = order_services.order_add_event(
        order=order,
        kind=OrderEvent.Kind.EDITED,
        actor=actor,
        public=True,
        message=f"Edited by {_who(actor)}: "
        + "; ".join(changes + totals)
        + "".join(f". {m}" for d in data for m in d.get("stock", [])),
        data={
            "changes": data,
            "totals": {k: [before[k], after[k]] for k in before},
            **({"tax_basis": locked.tax_basis} if locked.tax_basis else {}),
        },
    )
    webhooks.publish_order("order.updated", order, changes=changes + totals)
    notify_customer(order=order, kind=ORDER_EDITED, reference=str(event.pk))
    return {"order": order, "changes": changes + totals, "event": event}


def _who(actor) -> str:
    from kernel.actors import actor_name

    return actor_name(actor)


def _snapshot(order: Order) -> dict[str, str]:
    cur = order.currency
    return {
        k: str(quantize_money(getattr(order, k), cur))
        for k in ("subtotal", "discount_total", "shipping_total", "tax_total", "total")
    }


def _apply_address(locked: Locked, address: dict, data: list, *, actor, note) -> list[str]:
    order = locked.order
    clean = {k: str(address.get(k) or "").strip() for k in ADDRESS_FIELDS if k in address}
    if "country" in clean:
        clean["country"] = clean["country"].upper()
        if not COUNTRY_RE.match(clean["country"]):
            raise OrderInvalid(
                "country must be a 2-letter ISO 3166-1 code", field="shipping_address.country"
            )
    for k in REQUIRED_ADDRESS:
        if k in clean and not clean[k]:
            raise OrderInvalid(f"{k} may not be blank", field=f"shipping_address.{k}")
    diff = {
        k: (getattr(order, f"ship_{k}"), v)
        for k, v in clean.items()
        if getattr(order, f"ship_{k}") != v
    }
    if not diff:
        return []
    started = locked.started_shipments
    if started:
        raise Conflict(
            "Cannot change the address: picking has started for "
            + ", ".join(f"{s.number} ({s.status})" for s in started)
            + "; its parcel is prepared for the old address",
            field="shipping_address",
        )
    for k, (_, value) in diff.items():
        setattr(order, f"ship_{k}", value)
    order.save(update_fields=[f"ship_{k}" for k in diff] + ["updated_at"])
    moved = reroute_for_address(locked, actor=actor, note="address changed")
    data.append(
        {"change": "address", "fields": {k: list(v) for k, v in diff.items()}, "stock": moved}
    )
    return ["address " + ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in diff.items())]


def _apply_shipping(locked: Locked, service, shipping_total, data: list) -> list[str]:
    order = locked.order
    changes = []
    if service is not None:
        code = str(service).strip()
        carrier_code, _, service_code = code.partition("/")
        if (
            not service_code
            or not CarrierService.objects.filter(
                carrier__code=carrier_code, code=service_code, active=True, carrier__active=True
            ).exists()
        ):
            raise OrderInvalid(
                f"Unknown or inactive service {code!r}: use carrier/service, e.g. post/standard",
                field="service",
            )
        targets = locked.allocated_shipments
        if not targets:
            started = ", ".join(s.number for s in locked.started_shipments)
            raise Conflict(
                f"No shipment of {order.number} is waiting to be picked, so none can take "
                "another service" + (f" (picking has started for {started})" if started else ""),
                field="service",
            )
        for shipment in targets:
            old = f"{shipment.carrier}/{shipment.service}" if shipment.carrier else "rate shopping"
            if old == code:
                continue
            shipment.carrier, shipment.service = carrier_code, service_code
            shipment.save(update_fields=["carrier", "service"])
            changes.append(f"{shipment.number} service {old} -> {code}")
            data.append({"change": "service", "shipment": shipment.number, "from": old, "to": code})
    if shipping_total is not None:
        amount = parse_money(shipping_total, "shipping_total", order.currency)
        if amount != order.shipping_total:
            changes.append(f"shipping {order.shipping_total} -> {amount}")
            data.append(
                {"change": "shipping_total", "from": str(order.shipping_total), "to": str(amount)}
            )
            order.shipping_total = amount
            order.save(update_fields=["shipping_total", "updated_at"])
    return changes


# --------------------------------------------------------------------------- one edit each


def order_line_change_quantity(
    *, order: Order, line: OrderLine, quantity: int, expected: int | None = None, actor=None
) -> dict:
    return order_edit(
        order=order,
        quantities=[{"line": line.pk, "quantity": quantity, "expected": expected}],
        actor=actor,
    )


def order_line_add(*, order: Order, sku: str, quantity: int, unit_price=None, actor=None) -> dict:
    return order_edit(
        order=order,
        add=[{"sku": sku, "quantity": quantity, "unit_price": unit_price}],
        actor=actor,
    )


def order_line_remove(*, order: Order, line: OrderLine, actor=None) -> dict:
    return order_edit(order=order, remove=[line.pk], actor=actor)


def order_change_address(*, order: Order, address: dict, actor=None) -> dict:
    return order_edit(order=order, address=address, actor=actor)


def order_change_shipping(
    *,
    order: Order,
    service: str | None = None,
    shipping_total: Decimal | None = None,
    actor=None,
) -> dict:
    return order_edit(order=order, service=service, shipping_total=shipping_total, actor=actor)
