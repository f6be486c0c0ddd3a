"""Database helpers shared by the services.

Besides transactions (``retry_on_conflict``) and in-memory relations (``prime_related``),
the statements of the hot paths (order intake, routing, stock changes) without the ORM's
per-call compilation: ``fetch`` (a hand-written WHERE, instances from ``from_db``),
``insert_new`` / ``insert_unless_duplicate`` (INSERT ... RETURNING), ``save_fields``
and ``update_column`` (UPDATE), and ``write_together`` (several of those in one round
trip). Each statement's text is built once per model from its meta; values go through
the fields' own ``pre_save`` / ``get_db_prep_save`` and converters, so the rows and
instances are those the ORM would write and read. They send no model signals (the
services write their audit rows themselves). On other databases (the SQLite demo) the
writes fall back to the ORM calls they stand for, and ``fetch`` runs its portable SQL.
Everything else uses the ORM: these are for statements that run on every order.

On PostgreSQL, ``fetch`` reads through ``read_cursor`` (statements prepared on their
connection), and ``writes_held`` lets a service hold the writes it needs nothing back
from until its last round trip (``write_together(wait=False)``, ``draw_ids``).
"""

import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from typing import NamedTuple

from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    router,
    transaction,
)

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean "try the whole transaction again".
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate in RETRYABLE_SQLSTATES


def retry_on_conflict(func=None, *, attempts: int = 4):
    """Run ``func`` in its own transaction, retrying deadlocks and serialization failures.

    Only the outermost call retries: inside an enclosing transaction the error must
    propagate so that the enclosing transaction is retried as a whole.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if connection.in_atomic_block:
                return fn(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic():
                        return fn(*args, **kwargs)
                except OperationalError as exc:
                    if not is_retryable(exc) or attempt == attempts:
                        raise
                    log.warning("retrying %s after %s (attempt %s)", fn.__name__, exc, attempt)
                    time.sleep(random.uniform(0.005, 0.05) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(func) if func is not None else decorate


def prime_related(instance, name: str, objects) -> None:
    """Fill ``instance.<name>.all()`` with ``objects`` as if prefetched, so code reading
    the relation later in the request sees the rows this transaction just wrote (and
    their in-memory changes) without a query. Only for rows the caller knows are all
    of them (e.g. the lines of an order it has just placed)."""
    manager = getattr(instance, name)
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(name, None)
    queryset = manager.get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache[name] = queryset


def primed(instance, name: str) -> list | None:
    """The objects ``prime_related`` put in ``instance.<name>`` (None when not primed)."""
    queryset = getattr(instance, "_prefetched_objects_cache", {}).get(name)
    return None if queryset is None else queryset._result_cache


def forget_primed(instance, *names: str) -> None:
    """Drop what ``prime_related`` kept: later reads of the relation query again."""
    cache = getattr(instance, "_prefetched_objects_cache", {})
    for name in names:
        cache.pop(name, None)


def insert_unless_duplicate(obj) -> bool:
    """INSERT the new model instance ``obj`` unless a row with one of its unique values
    exists. True: written, with its primary key (and database-returned fields) set;
    False: nothing written.

    PostgreSQL: one ``INSERT ... ON CONFLICT DO NOTHING`` where ``save()`` in a
    savepoint takes three statements (SAVEPOINT, INSERT, RELEASE), and the caller's
    transaction stays usable either way; any other violation (NOT NULL, CHECK) raises.
    As ``insert_new``: the fields' ``pre_save`` (auto_now...) runs, no model signals are
    sent. Other databases: ``save()`` in a savepoint (SQLite's INSERT OR IGNORE would
    also skip a NOT NULL violation)."""
    using = router.db_for_write(type(obj), instance=obj)
    db = transaction.get_connection(using)
    if db.vendor != "postgresql" or obj.pk is not None:
        try:
            with transaction.atomic(using=using):
                obj.save(force_insert=True, using=using)
        except IntegrityError:
            return False
        return True
    written = []
    _run(db, [_insert_write([obj], db, ignore_conflicts=True, written=written)])
    return bool(written)


def insert_new(objs: list) -> list:
    """INSERT new instances of one model, as ``bulk_create`` does: primary keys (and
    other database-returned fields) set, ``pre_save`` run (auto_now...), no signals.
    Instances may carry primary keys drawn with ``draw_ids`` (all or none of them).

    PostgreSQL: one ``INSERT ... VALUES ... RETURNING`` written once per model, not
    compiled per call: the ORM's compilation of a bulk_create took most of the time of
    writing an order's few lines, events or shipments. Elsewhere, and for more rows than
    one statement's parameters allow: bulk_create."""
    write_together(insert=[objs])
    return objs


def draw_ids(model, count: int, *, also: str | None = None) -> list[tuple]:
    """PostgreSQL: ``count`` primary keys for new rows of ``model`` from its identity
    sequence, so that rows referring to them can be written in the same round trip as
    they are (``write_together(wait=False)``); ``also``: a second sequence drawn in the
    same statement (a number's). Each item: (id, value of ``also``) or (id,).
    Other databases: an empty list (the rows get their keys when inserted)."""
    db = transaction.get_connection(router.db_for_write(model))
    if db.vendor != "postgresql" or count <= 0:
        return []
    meta = model._meta
    columns = "nextval(pg_get_serial_sequence(%s, %s))" + (", nextval(%s)" if also else "")
    params = [meta.db_table, meta.pk.column, *([also] if also else []), count]
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM generate_series(1, %s)", params)
        return [tuple(row) for row in cursor.fetchall()]


def save_fields(obj, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` for a saved instance: the fields' ``pre_save``
    runs (auto_now), a missing row raises DatabaseError as save() does; no model
    signals. PostgreSQL: an UPDATE written once per (model, fields), not compiled per
    call (order status moves on every intake). Elsewhere: save()."""
    write_together(update=[(obj, fields)])


def update_column(objs: list, name: str) -> None:
    """Write one field of already saved instances of one model, as
    ``bulk_update(objs, [name])`` does. PostgreSQL: ``UPDATE ... FROM (VALUES ...)``,
    one statement with a parameter per value (bulk_update builds and compiles a CASE
    expression of every row)."""
    write_together(columns=[(objs, name)])


def write_together(
    *,
    statements: Sequence[tuple[str, Sequence]] = (),
    insert: Sequence[list] = (),
    update: Sequence[tuple] = (),
    columns: Sequence[tuple[list, str]] = (),
    wait: bool = True,
) -> None:
    """Several writes: each (SQL, parameters) in ``statements`` (a statement of the
    caller's that returns no rows), then as ``insert_new(objs)`` for each list in
    ``insert``, ``save_fields(obj, fields)`` for each pair in ``update`` and
    ``update_column(objs, name)`` for each pair in ``columns`` do them: writes that do
    not depend on each other (on PostgreSQL they run in the order given, elsewhere and
    past the limits in an order of their own).

    PostgreSQL: all of them in one round trip. Django's psycopg cursor binds parameters
    on the client, so several statements go to the server in one execute; each
    statement's rows come back in turn (``nextset``). Elsewhere (and for writes too big
    for one statement) one ORM call per write.

    ``wait=False``: the caller needs nothing back now (no primary keys of the rows it
    inserts): inside ``writes_held`` the writes are held and go with the connection's
    next statement, in the same round trip."""
    writes = [_Write(sql, list(params), False) for sql, params in statements]
    fallback = []
    db = connection
    for objs in insert:
        if objs:
            db = _writer(objs[0])
            write = _insert_write(objs, db) if db.vendor == "postgresql" else None
            if write:
                writes.append(write)
            else:
                fallback.append(partial(_bulk_create, objs))
    for obj, fields in update:
        db = _writer(obj)
        if db.vendor == "postgresql":
            writes.append(_update_write(obj, fields, db))
        else:
            fallback.append(partial(obj.save, update_fields=fields))
    for objs, name in columns:
        if objs:
            db = _writer(objs[0])
            write = _column_write(objs, name, db) if db.vendor == "postgresql" else None
            if write:
                writes.append(write)
            else:
                fallback.append(partial(type(objs[0]).objects.bulk_update, objs, [name]))
    if writes:
        held = getattr(db, "_oms_held", None)
        if not wait and held is not None:
            held.extend(writes)
        else:
            _run(db, writes)
    for call in fallback:
        call()


@contextmanager
def writes_held(using: str | None = None):
    """Within this block, hold back the writes of ``write_together(wait=False)`` on
    PostgreSQL and send them with the next statement the connection runs, whatever it
    is, in the same round trip (``_run``: before the statement, in the order written),
    or at the end of the block. For a service call inside one transaction that writes
    many rows it needs nothing back from: an order intake reserves stock, writes ledger
    rows, shipment lines and events, one round trip each without this.

    Every statement still sees the held writes first (a read of what was held reads it
    back), a rolled back savepoint drops what was held inside it, and an exception
    leaving the block drops them and marks the transaction for rollback (so a caller
    cannot commit half of the block). Nested blocks share the outer one. Outside a
    transaction, and on other databases, nothing is held."""
    db = transaction.get_connection(using)
    if (
        db.vendor != "postgresql"
        or not db.in_atomic_block  # in autocommit each statement is its own transaction
        or getattr(db, "_oms_held", None) is not None
    ):
        yield
        return
    db._oms_held = []
    try:
        with db.execute_wrapper(_send_held_first):
            yield
            if db._oms_held:
                _run(db, [])  # sends what is held
    except BaseException:
        if db._oms_held:
            transaction.set_rollback(True, using=db.alias)
        raise
    finally:
        db._oms_held = None


def _send_held_first(execute, sql, params, many, context):
    """``writes_held``'s hook on every statement: the held writes go first, in the same
    execute when the statement is a write of ``_run``; a rollback to a savepoint drops
    them (everything held before the savepoint was sent when it was taken)."""
    held = context["connection"]._oms_held
    if held:
        if sql.lstrip()[:8].upper() == "ROLLBACK":
            held.clear()
        else:
            _run(context["connection"], [])  # sends what is held (and empties it first)
    return execute(sql, params, many, context)


def _writer(obj):
    """The connection that writes ``obj``'s model."""
    return transaction.get_connection(router.db_for_write(type(obj), instance=obj))


def _bulk_create(objs):
    return type(objs[0]).objects.bulk_create(objs)


class _Write(NamedTuple):
    sql: str
    params: list
    returns: bool  # the statement returns rows, handed to ``done``
    done: Callable[[list], None] | None = None
    rowcount: int | None = None  # rows it must affect (an UPDATE of one saved row)


def _run(db, writes: list[_Write]) -> None:
    held = getattr(db, "_oms_held", None)
    if held:  # writes_held: what was held goes first, in the same execute
        writes = [*held, *writes]
        held.clear()
    with db.cursor() as cursor:
        if len(writes) > 1 and _binds_on_client(cursor):
            cursor.execute("; ".join(w.sql for w in writes), [p for w in writes for p in w.params])
            for n, write in enumerate(writes):
                if n:
                    cursor.nextset()
                _finish(cursor, write)
            return
        for write in writes:  # server-side binding takes one statement per execute
            cursor.execute(write.sql, write.params)
            _finish(cursor, write)


def _binds_on_client(cursor) -> bool:
    """Several statements fit in one execute only with client-side binding (Django's
    default psycopg cursor; not with the ``server_side_binding`` option)."""
    import psycopg

    return isinstance(getattr(cursor, "cursor", cursor), psycopg.ClientCursor)


def _finish(cursor, write: _Write) -> None:
    if write.rowcount is not None and cursor.rowcount != write.rowcount:
        raise DatabaseError(f"{write.sql[:60]}...: {cursor.rowcount} rows, not 1")
    if write.done is not None:
        write.done(cursor.fetchall() if write.returns else [])


@functools.cache
def _insert_plan(model, alias: str, with_pk: bool = False):
    """(INSERT head, one row's placeholders, fields written, fields returned) of a model;
    ``with_pk``: the rows carry primary keys drawn beforehand (``draw_ids``)."""
    db = transaction.get_connection(alias)
    meta = model._meta
    quote = db.ops.quote_name
    fields = [
        f
        for f in meta.local_concrete_fields
        if not f.generated and (with_pk or f is not meta.auto_field)
    ]
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = list(meta.db_returning_fields)
    tail = f" RETURNING {', '.join(quote(f.column) for f in returning)}"
    return head, row, tail, fields, [(f, *_converters(f, meta.db_table, db)) for f in returning]


def _converters(field, table: str, db) -> tuple:
    """(column, converters) of a field read back from ``table``: what a query applies to
    its values (the backend's, then the field's own ``from_db_value``)."""
    column = field.get_col(table)
    return column, db.ops.get_db_converters(column) + column.get_db_converters(db)


def _converted(value, column, converters, db):
    for convert in converters:
        value = convert(value, column, db)
    return value


def _insert_write(objs: list, db, *, ignore_conflicts=False, written=None) -> _Write | None:
    """The INSERT of new instances ``objs`` (None when it cannot be one statement: some
    with a primary key set and some without, or too many parameters). ``written``
    collects those written (with ``ignore_conflicts``: none if the one object
    conflicted)."""
    with_pk = objs[0].pk is not None
    if any((obj.pk is not None) != with_pk for obj in objs):
        return None
    head, row, tail, fields, returning = _insert_plan(type(objs[0]), db.alias, with_pk)
    if len(objs) * len(fields) > 30_000:
        return None
    assert not ignore_conflicts or len(objs) == 1, "with ignore_conflicts, one at a time"
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection=db) for f in fields)
    conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""

    def done(rows):
        if ignore_conflicts and not rows:
            return  # it conflicted: nothing written
        for obj, values in zip(objs, rows, strict=True):
            for (field, column, converters), value in zip(returning, values, strict=True):
                setattr(obj, field.attname, _converted(value, column, converters, db))
            obj._state.adding = False
            obj._state.db = db.alias
            if written is not None:
                written.append(obj)

    sql = f"{head} VALUES {', '.join([row] * len(objs))}{conflicts}{tail}"
    return _Write(sql, params, True, done)


@functools.cache
def _update_plan(model, fields: tuple[str, ...], alias: str):
    quote = transaction.get_connection(alias).ops.quote_name
    meta = model._meta
    targets = [meta.get_field(name) for name in dict.fromkeys(fields)]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    statement = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    )
    return statement, targets


def _update_write(obj, fields: Sequence[str], db) -> _Write:
    statement, targets = _update_plan(type(obj), tuple(fields), db.alias)
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection=db) for f in targets]
    return _Write(statement, [*params, obj.pk], False, rowcount=1)


def _column_write(objs: list, name: str, db) -> _Write | None:
    if len(objs) > 10_000:
        return None
    meta = type(objs[0])._meta
    field = meta.get_field(name)
    quote = db.ops.quote_name
    pk_type, value_type = meta.pk.rel_db_type(db), field.db_type(db)
    rows = ", ".join([f"(%s::{pk_type}, %s::{value_type})"] * len(objs))
    params = []
    for obj in objs:
        params.append(obj.pk)
        params.append(field.get_db_prep_save(getattr(obj, field.attname), connection=db))
    statement = (
        f"UPDATE {quote(meta.db_table)} AS t SET {quote(field.column)} = v.value "
        f"FROM (VALUES {rows}) AS v(pk, value) WHERE t.{quote(meta.pk.column)} = v.pk"
    )
    return _Write(statement, params, False)


def fetch(
    model,
    where: str,
    params: Sequence = (),
    *,
    related: Sequence[str] = (),
    order_by: str = "",
    limit: int | None = None,
    for_update: bool = False,
) -> list:
    """Instances of ``model`` selected by a hand-written ``where`` over its table (alias
    ``t0``), with the forward foreign keys named in ``related`` joined (``t1``, ``t2``...)
    and cached on them as ``select_related`` would (rows joining the same row share its
    instance, as ``prefetch_related`` does); ``for_update`` locks the ``t0`` rows
    (``FOR UPDATE OF t0``, where the database has row locks).

    For the hot lookups of order intake, where compiling the ORM query cost more than
    running it: the select list and joins are built once per (model, related), values
    go through the fields' converters as a query's would, instances come from
    ``from_db``. Keep ``where`` portable SQL (PostgreSQL and SQLite)."""
    db = transaction.get_connection(router.db_for_read(model))
    head, layout = _select_plan(model, tuple(related), db.alias)
    statement = f"{head} WHERE {where}"
    if order_by:
        statement += f" ORDER BY {order_by}"
    if limit is not None:
        statement += f" LIMIT {int(limit)}"
    if for_update and db.features.has_select_for_update:
        statement += " FOR UPDATE OF t0" if db.features.has_select_for_update_of else " FOR UPDATE"
    with read_cursor(db) as cursor:
        cursor.execute(statement, list(params))
        rows = cursor.fetchall()
    found = []
    joined: dict[tuple, object] = {}  # one instance per joined row, as prefetching does
    for row in rows:
        base = None
        for cls, field, start, attnames, converting, pk_at in layout:
            key = None
            if field is not None:
                key = (field.name, row[pk_at])
                if key in joined:
                    field.set_cached_value(base, joined[key])
                    continue
            values = list(row[start : start + len(attnames)])
            for i, column, converters in converting:
                values[i] = _converted(values[i], column, converters, db)
            obj = cls.from_db(db.alias, attnames, values)
            if field is None:
                base = obj
            else:
                joined[key] = obj
                field.set_cached_value(base, obj)
        found.append(base)
    return found


def cache_long_statements() -> None:
    """psycopg parses a statement for its placeholders on every execute unless it is
    at most 4,096 bytes with at most 50 parameters; the writes an intake sends in one
    round trip (``write_together``) are longer, the same text for orders of one
    shape, and re-parsing them took a few percent of the CPU of a placement. Raise
    the limits (psycopg keeps up to 128 parsed statements). Called once at startup."""
    try:
        from psycopg import _queries
    except ImportError:
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 65_536)
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 2_000)


def read_cursor(db=None):
    """A cursor for the hot reads (``fetch``, the API's token check). With prepared
    statements enabled (PostgreSQL, ``OPTIONS["prepare_threshold"]``, see settings), one
    that binds parameters on the server, so a statement run often is prepared on the
    connection and PostgreSQL stops parsing and planning it anew every time (planning
    the intake's reads cost more server time than running them). Otherwise, and for
    writes (several statements per execute need client-side binding): ``db.cursor()``.
    Wrapped as Django's cursors are: errors translated, queries logged in tests."""
    db = db or connection
    if db.vendor != "postgresql" or db.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_preparing_cursor_class()(db.connection))


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Django's server-side binding cursor. psycopg leaves the statement it ran
        unrecorded when it runs a prepared one, and Django's query log (tests' query
        counts, the debug toolbar) reads it from there: record it."""

        def _send_query_prepared(self, name, pgq, *, binary=None):
            self._query = pgq
            super()._send_query_prepared(name, pgq, binary=binary)

    return PreparingCursor


@functools.cache
def _select_plan(model, related: tuple[str, ...], alias: str):
    db = transaction.get_connection(alias)
    quote = db.ops.quote_name
    parts = [(model, "t0", None)]
    joins = []
    for n, name in enumerate(related, 1):
        field = model._meta.get_field(name)
        target = field.related_model
        joins.append(
            f"JOIN {quote(target._meta.db_table)} t{n} "
            f"ON t{n}.{quote(target._meta.pk.column)} = t0.{quote(field.column)}"
        )
        parts.append((target, f"t{n}", field))
    select, layout, start = [], [], 0
    for cls, table_alias, field in parts:
        fields = cls._meta.concrete_fields
        select.extend(f"{table_alias}.{quote(f.column)}" for f in fields)
        converting = []
        for i, f in enumerate(fields):
            column, converters = _converters(f, cls._meta.db_table, db)
            if converters:
                converting.append((i, column, converters))
        attnames = [f.attname for f in fields]
        pk_at = start + attnames.index(cls._meta.pk.attname)
        layout.append((cls, field, start, attnames, converting, pk_at))
        start += len(fields)
    table = quote(model._meta.db_table)
    head = f"SELECT {', '.join(select)} FROM {table} t0 {' '.join(joins)}".rstrip()
    return head, layout
