"""Every change of on_hand or reserved, each with its StockMovement row.

Locking: functions that change stock lock the affected StockLevel rows with
``SELECT ... FOR UPDATE`` ordered by primary key, so two transactions touching the same
levels always queue in the same order and never deadlock each other. The CHECK
constraints on StockLevel stay the last line of defence.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory import stock_changes
from inventory.counting import (
    MAX_QUANTITY,
    CountedStock,
    CountResult,
    OrmCountWriter,
    check_counts,
    run_counts,
)
from inventory.counting_sql import CopyCountWriter
from inventory.exceptions import CountNeedsConfirmation, InsufficientStock, StockError
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.stock_changes import STOCK_CHANGE_LISTENERS, on_stock_change  # noqa: F401
from inventory.stock_changes import mark_changed as _mark_changed
from inventory.stock_changes import offer_to_backorders as _offer_to_backorders
from inventory.stock_changes import tell_listeners as _tell_listeners
from kernel.actors import actor_name
from kernel.db import insert_new, rows_where

Kind = StockMovement.Kind
# Movements that make stock available; backordered lines get a chance at it.
ARRIVAL_KINDS = {Kind.RECEIPT, Kind.RETURN_RESTOCK, Kind.TRANSFER_IN, Kind.RELEASE}


@dataclass(frozen=True)
class StockChange:
    product_id: int
    warehouse_id: int
    kind: str
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reference: str = ""
    note: str = ""
    reason_code: str = ""


def _check_quantity(quantity: int, *, field: str = "quantity", allow_zero: bool = False) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise StockError(f"{field} must be a whole number", field=field)
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise StockError(f"{field} must be greater than 0", field=field)
    if quantity > MAX_QUANTITY:
        raise StockError(f"{field} must be at most {MAX_QUANTITY}", field=field)


def stock_lock_levels(*, pairs: Iterable[tuple[int, int]] = (), product_ids: Iterable[int] = ()):
    """Lock stock levels in primary-key order and return them keyed by (product, warehouse).

    ``pairs`` selects exact (product_id, warehouse_id) levels; ``product_ids`` selects
    every level of those products (routing looks at all points at once).
    """
    pairs = set(pairs)
    product_ids = set(product_ids)
    if not pairs and not product_ids:
        return {}
    if not pairs:  # routing: every level of the products, one statement built once
        levels = rows_where(
            StockLevel, "product_id", product_ids, related=("product", "warehouse"), lock=True
        )
        return {(lv.product_id, lv.warehouse_id): lv for lv in levels}
    wanted = Q(product_id__in=product_ids) if product_ids else Q()
    for product_id, warehouse_id in pairs:
        wanted |= Q(product_id=product_id, warehouse_id=warehouse_id)
    levels = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("product", "warehouse")
        .filter(wanted)
        .order_by("pk")
    )
    return {(lv.product_id, lv.warehouse_id): lv for lv in levels}


def _ensure_levels(pairs: Iterable[tuple[int, int]]) -> None:
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=p, warehouse_id=w) for p, w in pairs], ignore_conflicts=True
    )


def _update_levels(deltas: list[tuple[int, int, int]], marks: list[tuple[int, int]], now) -> None:
    """Add (level id, on_hand delta, reserved delta) to already locked levels and mark
    them changed for the channels (``StockChangeMark``, (level id, product id) pairs).
    PostgreSQL: one statement however many levels (an order's statements do not grow
    with its lines): the UPDATE, and the marks of the rows it updated in a
    data-modifying WITH; elsewhere one UPDATE per level and the marks' upsert."""
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s::bigint, %s::integer, %s::integer)"] * len(deltas))
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH changed AS (UPDATE inventory_stocklevel AS s "
                "SET on_hand = s.on_hand + v.d_on_hand, reserved = s.reserved + v.d_reserved, "
                f"updated_at = %s FROM (VALUES {values}) AS v(id, d_on_hand, d_reserved) "
                "WHERE s.id = v.id RETURNING s.id, s.product_id) "
                f"{stock_changes.MARKS_INSERT}SELECT id, product_id, %s FROM changed"
                f"{stock_changes.MARKS_ON_CONFLICT}",
                [now, *(x for delta in deltas for x in delta), now],
            )
        return
    for pk, d_on_hand, d_reserved in deltas:
        StockLevel.objects.filter(pk=pk).update(
            on_hand=F("on_hand") + d_on_hand,
            reserved=F("reserved") + d_reserved,
            updated_at=now,
        )
    _mark_changed(marks, now)


def stock_apply(
    *,
    changes: Sequence[StockChange],
    actor=None,
    levels: dict | None = None,
    create_missing: bool = False,
) -> list[StockMovement]:
    """Apply stock changes and write one movement per change.

    Locks the affected levels in pk order unless the caller passes them already locked
    in ``levels``. Raises InsufficientStock (and changes nothing) when a change would
    make on_hand or reserved negative or reserved exceed on_hand.

    A caller passing ``levels`` holds their locks, so it is inside its own transaction
    and lets errors propagate out of it: no savepoint is taken for it (two round trips
    saved on every allocation).
    """
    with transaction.atomic(savepoint=levels is None):
        return _stock_apply(
            changes=changes, actor=actor, levels=levels, create_missing=create_missing
        )


def _stock_apply(*, changes, actor, levels, create_missing) -> list[StockMovement]:
    if not changes:
        return []
    pairs = {(c.product_id, c.warehouse_id) for c in changes}
    if create_missing:
        _ensure_levels(pairs)
    if levels is None or not pairs <= levels.keys():
        levels = stock_lock_levels(pairs=pairs)

    totals: dict[tuple[int, int], list[int]] = {}
    for change in changes:
        key = (change.product_id, change.warehouse_id)
        if key not in levels:
            product = Product.objects.filter(pk=change.product_id).values_list("sku", flat=True)
            warehouse = Warehouse.objects.filter(pk=change.warehouse_id).values_list(
                "code", flat=True
            )
            raise InsufficientStock(
                f"No stock of {product.first()} at {warehouse.first()}", field="quantity"
            )
        total = totals.setdefault(key, [0, 0])
        total[0] += change.on_hand_delta
        total[1] += change.reserved_delta

    for key, (d_on_hand, d_reserved) in totals.items():
        level = levels[key]
        new_on_hand = level.on_hand + d_on_hand
        new_reserved = level.reserved + d_reserved
        if new_on_hand < 0 or new_reserved < 0 or new_reserved > new_on_hand:
            raise InsufficientStock(
                f"{level.product.sku} at {level.warehouse.code}: on hand {level.on_hand}, "
                f"reserved {level.reserved}, available {level.available}; "
                f"cannot change on hand by {d_on_hand:+d} and reserved by {d_reserved:+d}",
                field="quantity",
                sku=level.product.sku,
                warehouse=level.warehouse.code,
                available=level.available,
            )

    deltas = [
        (levels[key].pk, d_on_hand, d_reserved)
        for key, (d_on_hand, d_reserved) in totals.items()
        if d_on_hand or d_reserved
    ]
    name = actor_name(actor)
    movements = [
        StockMovement(
            product_id=c.product_id,
            warehouse_id=c.warehouse_id,
            kind=c.kind,
            on_hand_delta=c.on_hand_delta,
            reserved_delta=c.reserved_delta,
            reference=c.reference[:64],
            note=c.note[:255],
            reason_code=c.reason_code,
            actor=name,
        )
        for c in changes
        if c.on_hand_delta or c.reserved_delta
    ]
    # The levels' UPDATE, their change marks (for the channels), their ledger rows.
    now = timezone.now()
    marks = sorted((levels[key].pk, key[0]) for key, (d1, d2) in totals.items() if d1 or d2)
    if deltas:
        _update_levels(sorted(deltas), marks, now)
    insert_new(movements)
    if marks and STOCK_CHANGE_LISTENERS:
        _tell_listeners({product_id for _, product_id in marks})
    for key, (d_on_hand, d_reserved) in totals.items():
        levels[key].on_hand += d_on_hand
        levels[key].reserved += d_reserved

    arrived = {
        c.product_id
        for c in changes
        if c.kind in ARRIVAL_KINDS or (c.on_hand_delta - c.reserved_delta) > 0
    }
    _offer_to_backorders(arrived)
    return movements


@transaction.atomic
def stock_receive(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    reference: str = "",
    note: str = "",
    actor=None,
) -> StockLevel:
    """Goods in: on_hand += quantity (ledger ``receipt``). Locks the one level."""
    _check_quantity(quantity)
    if not warehouse.active:
        raise StockError(f"Warehouse {warehouse.code} is inactive", field="warehouse")
    stock_apply(
        changes=[StockChange(product.pk, warehouse.pk, Kind.RECEIPT, quantity, 0, reference, note)],
        actor=actor,
        create_missing=True,
    )
    return StockLevel.objects.get(product=product, warehouse=warehouse)


@transaction.atomic
def stock_set_counts(
    *,
    counts: Sequence[CountedStock],
    kind: str = Kind.COUNT,
    reference: str = "",
    note: str = "",
    reason_code: str = "",
    actor=None,
    bulk: bool = False,
    field: str = "counted",
) -> CountResult:
    """Set counted quantities: the one service behind every count (cycle counts, adjust
    to a counted quantity, short picks, the admin's and the imports page's stock files).

    Each level's on_hand becomes its count (a new level is created), its bin and
    reorder point too when given; each difference is one ledger row of ``kind``
    (``count`` or ``import``) with ``reference``, ``note`` and ``reason_code``. Refused
    whole (CountsBelowReserved, naming every such count) when a count is below what is
    reserved. Locks the levels in id order. ``bulk`` (a CSV file) writes with COPY on
    PostgreSQL; the plan, and so the result, is the same (``inventory.counting``)."""
    counts = list(counts)
    check_counts(counts, kind=kind, reason_code=reason_code, field=field)
    if not counts:
        return CountResult()
    if bulk and connection.vendor == "postgresql":
        name = actor_name(actor)
        writer = CopyCountWriter(
            kind=kind, reference=reference, note=note, reason_code=reason_code, actor=name
        )
    else:
        writer = OrmCountWriter(
            change=partial(_count_change, kind, reference, note, reason_code),
            lock_levels=stock_lock_levels,
            apply=stock_apply,
            ensure=_ensure_levels,
            actor=actor,
        )
    result = run_counts(counts, writer, field=field)
    if isinstance(writer, CopyCountWriter) and result.movements:
        # stock_apply tells these for the ORM writer
        _tell_listeners({m.product_id for m in result.movements})
        _offer_to_backorders({m.product_id for m in result.movements if m.on_hand_delta > 0})
    return result


def _count_change(kind, reference, note, reason_code, product_id, warehouse_id, delta):
    return StockChange(product_id, warehouse_id, kind, delta, 0, reference, note, reason_code)


def stock_set_count(
    *,
    product: Product,
    warehouse: Warehouse,
    counted: int,
    kind: str = Kind.COUNT,
    note: str = "",
    reason_code: str = "",
    reference: str = "",
    bin: str | None = None,
    reorder_point: int | None = None,
    actor=None,
) -> tuple[StockLevel, bool]:
    """One level's count (``stock_set_counts``); returns (level, created)."""
    count = CountedStock(
        0, product.sku, warehouse.code, product.pk, warehouse.pk, counted, bin, reorder_point
    )
    result = stock_set_counts(
        counts=[count],
        kind=kind,
        reference=reference,
        note=note,
        reason_code=reason_code,
        actor=actor,
    )
    return result.levels[(product.pk, warehouse.pk)], bool(result.created)


@transaction.atomic
def stock_adjust(
    *,
    product: Product,
    warehouse: Warehouse,
    reason: str,
    delta: int | None = None,
    counted: int | None = None,
    reference: str = "",
    reason_code: str = "",
    actor=None,
) -> StockLevel:
    """Correct on_hand by a ``delta`` (ledger ``adjustment``) or to a ``counted`` quantity
    (ledger ``count``, through ``stock_set_count``), with an optional ``reason_code``
    (``StockMovement.ReasonCode``). Refused when on_hand would fall below what is
    reserved. Locks the one level.
    """
    if reason_code and reason_code not in StockMovement.ReasonCode.values:
        raise StockError(f"Unknown reason code {reason_code!r}", field="reason_code")
    if (delta is None) == (counted is None):
        raise StockError("Give either delta or counted, not both", field="delta")
    if not (reason or "").strip():
        raise StockError("A reason is required", field="reason")
    if delta is not None:
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise StockError("delta must be a non-zero whole number", field="delta")
        if abs(delta) > MAX_QUANTITY:
            raise StockError(f"delta must be at most {MAX_QUANTITY}", field="delta")
    else:
        level, _ = stock_set_count(
            product=product,
            warehouse=warehouse,
            counted=counted,
            note=reason,
            reason_code=reason_code,
            reference=reference,
            actor=actor,
        )
        return level
    _ensure_levels([(product.pk, warehouse.pk)])
    level = stock_lock_levels(pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    stock_apply(
        changes=[
            StockChange(
                product.pk, warehouse.pk, Kind.ADJUSTMENT, delta, 0, reference, reason, reason_code
            )
        ],
        actor=actor,
        levels={(product.pk, warehouse.pk): level},
    )
    return level


def count_variance_is_large(*, on_hand: int, counted: int) -> bool:
    """A count that differs from on_hand by at least ``OMS_COUNT_CONFIRM_UNITS`` units
    *and* ``OMS_COUNT_CONFIRM_PERCENT`` percent of on_hand (of the count when on_hand is
    0) must be confirmed with a reason code."""
    diff = abs(counted - on_hand)
    if diff == 0:
        return False
    base = on_hand or counted
    units = int(getattr(settings, "OMS_COUNT_CONFIRM_UNITS", 10))
    percent = float(getattr(settings, "OMS_COUNT_CONFIRM_PERCENT", 20))
    return diff >= units and diff * 100 >= percent * base


@transaction.atomic
def stock_count(
    *,
    product: Product,
    warehouse: Warehouse,
    counted: int,
    reason_code: str = "",
    confirmed: bool = False,
    note: str = "",
    actor=None,
) -> StockLevel:
    """A cycle count from the floor: on_hand becomes ``counted`` (ledger ``count``).
    A large variance (``count_variance_is_large``) is refused with ``CountNeedsConfirmation``
    unless ``confirmed`` and given a ``reason_code``; the reason code is kept on the
    ledger row either way. Locks the one level (``stock_adjust``, ``stock_set_count``)."""
    _check_quantity(counted, field="counted", allow_zero=True)
    _ensure_levels([(product.pk, warehouse.pk)])
    level = stock_lock_levels(pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    # A count below what is reserved is refused by stock_set_count, before any question.
    if (
        counted >= level.reserved
        and count_variance_is_large(on_hand=level.on_hand, counted=counted)
        and not (confirmed and reason_code)
    ):
        diff = counted - level.on_hand
        raise CountNeedsConfirmation(
            f"Counted {counted} of {product.sku} at {warehouse.code}, on hand {level.on_hand}: "
            f"{diff:+d}. Count again, or confirm with a reason.",
            field="counted",
            on_hand=level.on_hand,
            counted=counted,
            difference=diff,
        )
    who = actor_name(actor)
    return stock_adjust(
        product=product,
        warehouse=warehouse,
        counted=counted,
        reason=note or f"cycle count by {who}",
        reason_code=reason_code,
        actor=actor,
    )


@transaction.atomic
def stock_transfer(
    *,
    product: Product,
    source: Warehouse,
    destination: Warehouse,
    quantity: int,
    reference: str = "",
    note: str = "",
    actor=None,
) -> tuple[StockLevel, StockLevel]:
    """Move available stock between points (``transfer_out`` + ``transfer_in``).
    Locks both levels in pk order."""
    _check_quantity(quantity)
    if source.pk == destination.pk:
        raise StockError("Source and destination must differ", field="destination")
    if not destination.active:
        raise StockError(f"Warehouse {destination.code} is inactive", field="destination")
    stock_apply(
        changes=[
            StockChange(product.pk, source.pk, Kind.TRANSFER_OUT, -quantity, 0, reference, note),
            StockChange(product.pk, destination.pk, Kind.TRANSFER_IN, quantity, 0, reference, note),
        ],
        actor=actor,
        create_missing=True,
    )
    return (
        StockLevel.objects.get(product=product, warehouse=source),
        StockLevel.objects.get(product=product, warehouse=destination),
    )


@transaction.atomic
def stock_reserve(
    *, product: Product, warehouse: Warehouse, quantity: int, reference: str = "", actor=None
) -> StockLevel:
    """reserved += quantity if that much is available, else InsufficientStock."""
    _check_quantity(quantity)
    stock_apply(
        changes=[StockChange(product.pk, warehouse.pk, Kind.RESERVE, 0, quantity, reference)],
        actor=actor,
    )
    return StockLevel.objects.get(product=product, warehouse=warehouse)


@transaction.atomic
def stock_release(
    *, product: Product, warehouse: Warehouse, quantity: int, reference: str = "", actor=None
) -> StockLevel:
    """reserved -= quantity (ledger ``release``)."""
    _check_quantity(quantity)
    stock_apply(
        changes=[StockChange(product.pk, warehouse.pk, Kind.RELEASE, 0, -quantity, reference)],
        actor=actor,
    )
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def stock_set_location(*, level: StockLevel, bin: str, reorder_point: int) -> StockLevel:
    """Bin and reorder point are not quantities: a plain update, no ledger row."""
    level.bin = bin
    level.reorder_point = reorder_point
    level.save(update_fields=["bin", "reorder_point", "updated_at"])
    return level
