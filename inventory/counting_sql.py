"""PostgreSQL transport of large counts (CSV stock imports): COPY and set-based SQL.

It carries out the plan of ``inventory.counting.plan_counts`` for
``inventory.services.stock_set_counts``; it decides nothing itself. Per-row statements
cost a 100,000-row file about 20x more (bench/csv_import.py), hence this path:

- ``lock``: the file's existing levels, ``SELECT ... FOR UPDATE`` in id order (the
  order ``inventory.services`` locks in), keys passed as two arrays;
- ``create``: the new levels, COPied into a temporary table and inserted with their
  counted values (``ON CONFLICT DO NOTHING``: one created meanwhile by another
  transaction is left to the caller, which locks it and plans it again);
- ``apply``: the changed levels COPied and applied in one ``UPDATE ... FROM``, the
  movements COPied straight into the ledger, and the channels' change marks upserted.

Most of the time of a big first import is the database checking the foreign keys of
every new level and ledger row (product, warehouse), at commit; nothing here skips them.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from inventory.counting import CountPlan, LevelState, NewLevel
from oms.csvio import copy_rows

_MOVEMENT_COLUMNS = (
    "product_id",
    "warehouse_id",
    "on_hand_delta",
    "kind",
    "reserved_delta",
    "reference",
    "note",
    "reason_code",
    "actor",
    "created_at",
)


class CopyCountWriter:
    """Writes a count plan with COPY; one instance per service call."""

    def __init__(self, *, kind: str, reference: str, note: str, reason_code: str, actor: str):
        self.constants = (kind, 0, reference[:64], note[:255], reason_code, actor)
        self.level_ids: dict[tuple[int, int], int] = {}

    def lock(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], LevelState]:
        if not keys:
            return {}
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")  # sorts and joins in memory
            cursor.execute(
                """
                SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, s.reserved, s.bin,
                       s.reorder_point
                FROM inventory_stocklevel s
                JOIN unnest(%s::bigint[], %s::bigint[]) AS k(product_id, warehouse_id)
                  ON s.product_id = k.product_id AND s.warehouse_id = k.warehouse_id
                ORDER BY s.id
                FOR UPDATE OF s
                """,
                [[p for p, _ in keys], [w for _, w in keys]],
            )
            rows = cursor.fetchall()
        levels = {}
        for pk, product_id, warehouse_id, on_hand, reserved, bin_, point in rows:
            levels[(product_id, warehouse_id)] = LevelState(pk, on_hand, reserved, bin_, point)
            self.level_ids[(product_id, warehouse_id)] = pk
        return levels

    def create(self, new: list[NewLevel]) -> tuple[set, set]:
        """Insert the new levels with their counts; returns (the keys created here, the
        keys created meanwhile by another transaction, to be locked and planned again)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE _oms_count_new (product_id bigint, warehouse_id bigint, "
                "on_hand integer, bin varchar(32), reorder_point integer) ON COMMIT DROP"
            )
            copy_rows(cursor, "_oms_count_new", NewLevel._fields, new)
            cursor.execute(
                """
                INSERT INTO inventory_stocklevel
                    (product_id, warehouse_id, on_hand, reserved, bin, reorder_point, updated_at)
                SELECT product_id, warehouse_id, on_hand, 0, bin, reorder_point, now()
                FROM _oms_count_new
                ORDER BY product_id, warehouse_id
                ON CONFLICT (product_id, warehouse_id) DO NOTHING
                RETURNING id, product_id, warehouse_id
                """
            )
            created = cursor.fetchall()
            cursor.execute("DROP TABLE _oms_count_new")
        for pk, product_id, warehouse_id in created:
            self.level_ids[(product_id, warehouse_id)] = pk
        mine = {(p, w) for _, p, w in created}
        return mine, {(n.product_id, n.warehouse_id) for n in new} - mine

    def apply(self, plan: CountPlan) -> None:
        now = timezone.now()
        with connection.cursor() as cursor:
            if plan.updates:
                cursor.execute(
                    "CREATE TEMP TABLE _oms_count_update (id bigint, on_hand integer, "
                    "bin varchar(32), reorder_point integer) ON COMMIT DROP"
                )
                copy_rows(
                    cursor,
                    "_oms_count_update",
                    ("id", "on_hand", "bin", "reorder_point"),
                    ((u.id, u.on_hand, u.bin, u.reorder_point) for u in plan.updates),
                )
                cursor.execute(
                    """
                    UPDATE inventory_stocklevel s
                    SET on_hand = u.on_hand, bin = u.bin, reorder_point = u.reorder_point,
                        updated_at = now()
                    FROM _oms_count_update u
                    WHERE s.id = u.id
                    """
                )
                cursor.execute("DROP TABLE _oms_count_update")
            if not plan.movements:
                return
            constants = (*self.constants, now)
            copy_rows(
                cursor,
                "inventory_stockmovement",
                _MOVEMENT_COLUMNS,
                (
                    (m.product_id, m.warehouse_id, m.on_hand_delta, *constants)
                    for m in plan.movements
                ),
            )
            # The channels' change marks: one per level whose on_hand changed.
            cursor.execute(
                "CREATE TEMP TABLE _oms_count_mark (level_id bigint, product_id bigint) "
                "ON COMMIT DROP"
            )
            ids = self.level_ids
            copy_rows(
                cursor,
                "_oms_count_mark",
                ("level_id", "product_id"),
                ((ids[(m.product_id, m.warehouse_id)], m.product_id) for m in plan.movements),
            )
            cursor.execute(
                """
                INSERT INTO inventory_stockchangemark (level_id, product_id, marked_at)
                SELECT level_id, product_id, now() FROM _oms_count_mark ORDER BY level_id
                ON CONFLICT (level_id) DO UPDATE SET marked_at = EXCLUDED.marked_at
                """
            )
            cursor.execute("DROP TABLE _oms_count_mark")
