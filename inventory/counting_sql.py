"""PostgreSQL transport of large counts (CSV stock imports): COPY and set-based SQL.

It carries out the plan of ``inventory.counting.plan_counts`` for
``inventory.services.stock_set_counts``; it decides nothing itself. Per-row statements
cost a 100,000-row file about 20x more (bench/csv_import.py), hence this path:

- ``lock``: the file's existing levels, ``SELECT ... FOR UPDATE`` in id order (the
  order ``inventory.services`` locks in), the keys COPied into a temporary table;
- ``create``: the new levels, COPied into a temporary table and inserted with their
  counted values (a level created meanwhile by another transaction is left to the
  caller, which locks it and plans it again);
- ``apply``: the changed levels COPied and applied in one ``UPDATE ... FROM``, the
  movements COPied and inserted into the ledger with the channels' change marks.

Most of the time of a big first import is the database checking the foreign keys of
every new level and ledger row (product, warehouse), at commit; nothing here skips them.
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from inventory.counting import CountPlan, LevelState, Movement, NewLevel
from kernel.csvio import copy_rows


class CopyCountWriter:
    """Writes a count plan with COPY; one instance per service call."""

    def __init__(self, *, kind: str, reference: str, note: str, reason_code: str, actor: str):
        self.params = {
            "kind": kind,
            "ref": reference[:64],
            "note": note[:255],
            "reason": reason_code,
            "actor": actor,
        }

    def lock(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], LevelState]:
        if not keys:
            return {}
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")  # sorts and joins in memory
            cursor.execute(
                "CREATE TEMP TABLE _oms_count_key (product_id bigint, warehouse_id bigint) "
                "ON COMMIT DROP"
            )
            copy_rows(cursor, "_oms_count_key", ("product_id", "warehouse_id"), keys)
            cursor.execute(
                """
                SELECT s.product_id, s.warehouse_id, s.id, s.on_hand, s.reserved, s.bin,
                       s.reorder_point
                FROM inventory_stocklevel s
                JOIN _oms_count_key k
                  ON s.product_id = k.product_id AND s.warehouse_id = k.warehouse_id
                ORDER BY s.id
                FOR UPDATE OF s
                """
            )
            rows = cursor.fetchall()
            cursor.execute("DROP TABLE _oms_count_key")
        return {(r[0], r[1]): LevelState(*r[2:]) for r in rows}

    def create(self, new: list[NewLevel]) -> tuple[set, set]:
        """Insert the new levels with their counts; returns (the keys created here, the
        keys created meanwhile by another transaction, to be locked and planned again).

        A plain INSERT in a savepoint first (the usual case, and the fastest); if a
        level was created meanwhile (a unique violation) the savepoint is rolled back
        and ``ON CONFLICT DO NOTHING`` inserts the others."""
        keys = {(n.product_id, n.warehouse_id) for n in new}
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE _oms_count_new (product_id bigint, warehouse_id bigint, "
                "on_hand integer, bin varchar(32), reorder_point integer) ON COMMIT DROP"
            )
            copy_rows(cursor, "_oms_count_new", NewLevel._fields, new)
            insert = """
                INSERT INTO inventory_stocklevel
                    (product_id, warehouse_id, on_hand, reserved, bin, reorder_point,
                     updated_at)
                SELECT product_id, warehouse_id, on_hand, 0, bin, reorder_point, now()
                FROM _oms_count_new
                ORDER BY product_id, warehouse_id
            """
            try:
                with transaction.atomic():
                    cursor.execute(insert)
                meanwhile = set()
            except IntegrityError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "23505":  # not a unique key
                    raise
                cursor.execute(
                    f"""
                    WITH ins AS (
                        {insert}
                        ON CONFLICT (product_id, warehouse_id) DO NOTHING
                        RETURNING product_id, warehouse_id
                    )
                    SELECT t.product_id, t.warehouse_id
                    FROM _oms_count_new t
                    LEFT JOIN ins USING (product_id, warehouse_id)
                    WHERE ins.product_id IS NULL
                    """
                )
                meanwhile = set(cursor.fetchall())
            cursor.execute("DROP TABLE _oms_count_new")
        return keys - meanwhile, meanwhile

    def apply(self, plan: CountPlan) -> None:
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
            cursor.execute(
                "CREATE TEMP TABLE _oms_count_move (product_id bigint, warehouse_id bigint, "
                "on_hand_delta integer) ON COMMIT DROP"
            )
            copy_rows(cursor, "_oms_count_move", Movement._fields, plan.movements)
            # The ledger rows, and the channels' change marks: one per level whose
            # on_hand changed.
            cursor.execute(
                """
                WITH mv AS (
                    INSERT INTO inventory_stockmovement
                        (product_id, warehouse_id, kind, on_hand_delta, reserved_delta,
                         reference, note, reason_code, actor, created_at)
                    SELECT product_id, warehouse_id, %(kind)s, on_hand_delta, 0,
                           %(ref)s, %(note)s, %(reason)s, %(actor)s, now()
                    FROM _oms_count_move
                )
                INSERT INTO inventory_stockchangemark (level_id, product_id, marked_at)
                SELECT s.id, s.product_id, now()
                FROM _oms_count_move m
                JOIN inventory_stocklevel s
                  ON s.product_id = m.product_id AND s.warehouse_id = m.warehouse_id
                ORDER BY s.id
                ON CONFLICT (level_id) DO UPDATE SET marked_at = EXCLUDED.marked_at
                """,
                self.params,
            )
            cursor.execute("DROP TABLE _oms_count_move")
