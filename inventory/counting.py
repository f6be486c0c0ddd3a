"""Setting counted stock: the rows, their checks and the one builder of what changes.

``inventory.services.stock_set_counts`` is the service every count goes through (the
cycle-count page, the API's and the admin's adjust by counted quantity, a short pick,
the admin's stock import and the imports page / ``manage.py import_stock``). It locks
the levels, then asks :func:`plan_counts` what to write: the levels to create, the
levels to update, the ledger rows and the counts refused because fewer are counted than
are reserved. The writers (the ORM one in ``inventory.services``, the COPY one in
``inventory.counting_sql``) only carry that plan to the database, so every caller gets
the same levels and the same ledger rows for the same counts.

Nothing here writes SQL of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils import timezone

from inventory.exceptions import InsufficientStock, StockError
from inventory.models import StockMovement

MAX_QUANTITY = 1_000_000
MAX_REORDER_POINT = 2_147_483_647
BIN_LENGTH = 32
COUNT_KINDS = (StockMovement.Kind.COUNT, StockMovement.Kind.IMPORT)


class CountedStock(NamedTuple):
    """One counted level. ``bin`` / ``reorder_point`` None keep the current value;
    ``row`` is the file's row number (0 outside a file)."""

    row: int
    sku: str
    warehouse: str
    product_id: int
    warehouse_id: int
    on_hand: int  # the counted quantity
    bin: str | None = None
    reorder_point: int | None = None


class LevelState(NamedTuple):
    """A stock level as read under its lock."""

    id: int
    on_hand: int
    reserved: int
    bin: str
    reorder_point: int


class NewLevel(NamedTuple):
    product_id: int
    warehouse_id: int
    on_hand: int
    bin: str
    reorder_point: int


class LevelUpdate(NamedTuple):
    id: int
    product_id: int
    warehouse_id: int
    on_hand: int
    bin: str
    reorder_point: int


class Movement(NamedTuple):
    """A ledger row of the plan (its kind, reference, note and reason are the plan's)."""

    product_id: int
    warehouse_id: int
    on_hand_delta: int


@dataclass
class CountPlan:
    new: list[NewLevel] = field(default_factory=list)
    updates: list[LevelUpdate] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    below_reserved: list[tuple[CountedStock, int]] = field(default_factory=list)

    def without(self, keys: set[tuple[int, int]]) -> CountPlan:
        """The plan less the new levels of ``keys`` and their movements."""
        return CountPlan(
            new=[n for n in self.new if (n.product_id, n.warehouse_id) not in keys],
            updates=self.updates,
            movements=[m for m in self.movements if (m.product_id, m.warehouse_id) not in keys],
            below_reserved=self.below_reserved,
        )

    def merge(self, other: CountPlan) -> CountPlan:
        return CountPlan(
            new=self.new + other.new,
            updates=self.updates + other.updates,
            movements=self.movements + other.movements,
            below_reserved=self.below_reserved + other.below_reserved,
        )


class CountsBelowReserved(InsufficientStock):
    """Some counts are below what is reserved; ``rows`` holds (count, reserved) of each."""

    def __init__(self, rows: list[tuple[CountedStock, int]], *, field: str = "counted"):
        count, reserved = rows[0]
        super().__init__(below_reserved_message(count, reserved), field=field)
        self.rows = rows


def below_reserved_message(count: CountedStock, reserved: int) -> str:
    return (
        f"Counted {count.on_hand} of {count.sku} at {count.warehouse} but {reserved} are "
        "reserved for orders; release or re-route them first"
    )


def check_counts(
    counts: list[CountedStock], *, kind: str, reason_code: str, field: str = "counted"
) -> None:
    """The shape of a set of counts (StockError if bad); the CSV validation checks the
    same limits row by row first, so a file never meets these errors."""
    if kind not in COUNT_KINDS:
        raise StockError(f"A count is written as {' or '.join(COUNT_KINDS)}", field="kind")
    if reason_code and reason_code not in StockMovement.ReasonCode.values:
        raise StockError(f"Unknown reason code {reason_code!r}", field="reason_code")
    # Whole columns at once: a file's 100,000 counts are checked in a few passes.
    quantities = [c.on_hand for c in counts]
    if not set(map(type, quantities)) <= {int}:
        raise StockError(f"{field} must be a whole number", field=field)
    if quantities and min(quantities) < 0:
        raise StockError(f"{field} must be greater than 0", field=field)
    if quantities and max(quantities) > MAX_QUANTITY:
        raise StockError(f"{field} must be at most {MAX_QUANTITY}", field=field)
    bins = [c.bin for c in counts if c.bin]
    if max(map(len, bins), default=0) > BIN_LENGTH:
        raise StockError(f"bin is too long (at most {BIN_LENGTH} characters)", field="bin")
    points = [c.reorder_point for c in counts if c.reorder_point is not None]
    if points and (
        not set(map(type, points)) <= {int} or min(points) < 0 or max(points) > MAX_REORDER_POINT
    ):
        raise StockError("reorder_point must be a whole number", field="reorder_point")
    if len({(c.product_id, c.warehouse_id) for c in counts}) != len(counts):
        raise StockError("Each level may be counted once", field=field)


def plan_counts(counts: list[CountedStock], levels: dict[tuple[int, int], LevelState]) -> CountPlan:
    """What setting ``counts`` writes, given the current (locked) ``levels``.

    A level that does not exist yet is created with the count, its bin and reorder
    point; an existing one takes the count, and the bin and reorder point when given.
    Each change of on_hand is one movement of the difference. A count below what is
    reserved is refused (``below_reserved``)."""
    plan = CountPlan()
    new, updates, movements = plan.new, plan.updates, plan.movements
    for c in counts:
        key = (c.product_id, c.warehouse_id)
        level = levels.get(key)
        if level is None:
            new.append(NewLevel(*key, c.on_hand, c.bin or "", c.reorder_point or 0))
            if c.on_hand:
                movements.append(Movement(*key, c.on_hand))
            continue
        if c.on_hand < level.reserved:
            plan.below_reserved.append((c, level.reserved))
            continue
        bin_ = level.bin if c.bin is None else c.bin
        point = level.reorder_point if c.reorder_point is None else c.reorder_point
        delta = c.on_hand - level.on_hand
        if delta or bin_ != level.bin or point != level.reorder_point:
            updates.append(LevelUpdate(level.id, *key, c.on_hand, bin_, point))
        if delta:
            movements.append(Movement(*key, delta))
    return plan


@dataclass
class CountResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    movements: list[Movement] = field(default_factory=list)
    levels: dict = field(default_factory=dict)  # the locked StockLevels (ORM writer only)


def run_counts(counts: list[CountedStock], writer, *, field: str = "counted") -> CountResult:
    """Lock, plan, create, write: the steps of ``stock_set_counts`` for either writer.

    A new level is created with its count when the writer can (COPY); one that another
    transaction created meanwhile, or that the writer created empty (ORM), is locked and
    planned again as an existing level. Raises CountsBelowReserved, having written
    nothing that survives the caller's transaction, if any count is below reserved."""
    levels = writer.lock([(c.product_id, c.warehouse_id) for c in counts])
    plan = plan_counts(counts, levels)
    created: set[tuple[int, int]] = set()
    if plan.new and not plan.below_reserved:
        created, again = writer.create(plan.new)
        if again:
            later = writer.lock(sorted(again))
            redo = [c for c in counts if (c.product_id, c.warehouse_id) in again]
            plan = plan.without(again).merge(plan_counts(redo, later))
    if plan.below_reserved:
        raise CountsBelowReserved(plan.below_reserved, field=field)
    writer.apply(plan)
    updated = sum(1 for u in plan.updates if (u.product_id, u.warehouse_id) not in created)
    return CountResult(
        created=len(created),
        updated=updated,
        unchanged=len(counts) - len(created) - updated,
        movements=plan.movements,
        levels=getattr(writer, "locked", {}),
    )


class OrmCountWriter:
    """Writes a count plan through the stock services' own primitives (passed in by
    ``inventory.services``): levels locked by ``lock_levels``, quantities changed by
    ``apply`` (``stock_apply``: ledger rows, change marks, backorder offers), new levels
    created empty by ``ensure`` and planned again. For few levels, or not PostgreSQL."""

    CHUNK = 500

    def __init__(self, *, change, lock_levels, apply, ensure, actor):
        self.change, self.lock_levels, self.apply_changes = change, lock_levels, apply
        self.ensure, self.actor = ensure, actor
        self.locked: dict = {}

    def lock(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], LevelState]:
        if len(keys) <= self.CHUNK:
            levels = self.lock_levels(pairs=keys)
        else:  # a big file (not PostgreSQL): every level of its products, then ours
            wanted, levels = set(keys), {}
            products = sorted({p for p, _ in keys})
            for i in range(0, len(products), self.CHUNK):
                for key, level in self.lock_levels(
                    product_ids=products[i : i + self.CHUNK]
                ).items():
                    if key in wanted:
                        levels[key] = level
        self.locked.update(levels)
        return {
            key: LevelState(lv.pk, lv.on_hand, lv.reserved, lv.bin, lv.reorder_point)
            for key, lv in levels.items()
        }

    def create(self, new: list[NewLevel]) -> tuple[set, set]:
        keys = {(n.product_id, n.warehouse_id) for n in new}
        self.ensure(keys)
        return keys, keys  # created here, empty: plan them again

    def apply(self, plan: CountPlan) -> None:
        changes = [
            self.change(m.product_id, m.warehouse_id, m.on_hand_delta) for m in plan.movements
        ]
        for i in range(0, len(changes), self.CHUNK):
            self.apply_changes(
                changes=changes[i : i + self.CHUNK], actor=self.actor, levels=self.locked
            )
        moved, now = [], timezone.now()
        for u in plan.updates:
            level = self.locked[(u.product_id, u.warehouse_id)]
            if (level.bin, level.reorder_point) != (u.bin, u.reorder_point):
                level.bin, level.reorder_point, level.updated_at = u.bin, u.reorder_point, now
                moved.append(level)
        if moved:
            type(moved[0]).objects.bulk_update(
                moved, ["bin", "reorder_point", "updated_at"], batch_size=self.CHUNK
            )
