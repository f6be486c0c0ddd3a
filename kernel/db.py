"""Database helpers shared by the services.

Transactions (``retry_on_conflict``), in-memory relations (``prime_related``) and four
named statements for what every order does, each built once per model from its meta
instead of compiled by the ORM on every call (that compilation took most of the time of
writing an order's few rows): ``insert_new`` (INSERT ... RETURNING, as ``bulk_create``),
``insert_unless_duplicate`` (the same with ON CONFLICT DO NOTHING, as ``save()`` in a
savepoint), ``save_fields`` (UPDATE, as ``save(update_fields=...)``, or ``bulk_update``
for several rows) and ``rows_where`` (SELECT of the rows whose column has one of some
values, in primary-key order, optionally with their foreign-key rows and locked, as
``filter(<column>__in=...).select_related(...).select_for_update(of=("self",))``).
Values go through the fields' own ``pre_save`` / ``get_db_prep_save`` and converters,
so the rows and instances are those the ORM would write and read (tests/oms/
test_db_helpers.py compares them with the ORM's, nullable foreign keys, JSON and
datetimes included). They send no model signals: the services write their audit rows
themselves. Each is one statement, run when called. On other databases (the SQLite
demo) they are the ORM calls they stand for. Everything else uses the ORM.
"""

import functools
import logging
import random
import time
from collections.abc import Sequence

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

    PostgreSQL: one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` where ``save()`` in a
    savepoint takes three statements (SAVEPOINT, INSERT, RELEASE), and the caller's
    transaction stays usable either way; any other violation (NOT NULL, CHECK) raises.
    Other databases: ``save()`` in a savepoint (SQLite's INSERT OR IGNORE would also
    skip a NOT NULL violation)."""
    db = _writer(obj)
    if db.vendor != "postgresql" or obj.pk is not None:
        try:
            with transaction.atomic(using=db.alias):
                obj.save(force_insert=True, using=db.alias)
        except IntegrityError:
            return False
        return True
    return bool(_insert(db, [obj], conflicts=" ON CONFLICT DO NOTHING"))


def insert_new(objs: list) -> list:
    """INSERT new instances of one model, as ``bulk_create`` does: primary keys (and
    other database-returned fields) set, ``pre_save`` run (auto_now...), no signals.
    PostgreSQL: one ``INSERT ... VALUES ... RETURNING``. Elsewhere, and for more rows
    than one statement's parameters allow: ``bulk_create``."""
    if not objs:
        return objs
    db = _writer(objs[0])
    fields = _insert_plan(type(objs[0]), db.alias)[3] if db.vendor == "postgresql" else ()
    if db.vendor != "postgresql" or len(objs) * len(fields) > 30_000:
        type(objs[0]).objects.bulk_create(objs)
    else:
        _insert(db, objs)
    return objs


def save_fields(obj, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` for a saved instance: the fields' ``pre_save``
    runs (auto_now), a missing row raises DatabaseError as save() does; no model
    signals. PostgreSQL: one UPDATE written once per (model, fields).

    A list of saved instances of one model: ``bulk_update(objs, fields)`` (no
    ``pre_save``, as bulk_update), on PostgreSQL one ``UPDATE ... FROM (VALUES ...)``
    where bulk_update compiles a CASE per field on every call; a missing row raises."""
    if isinstance(obj, list):
        _save_many(obj, tuple(fields))
        return
    db = _writer(obj)
    if db.vendor != "postgresql":
        obj.save(update_fields=fields)
        return
    statement, targets = _update_plan(type(obj), tuple(fields), db.alias)
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection=db) for f in targets]
    with db.cursor() as cursor:
        cursor.execute(statement, [*params, obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError(f"{statement[:60]}...: {cursor.rowcount} rows, not 1")


def _save_many(objs: list, fields: tuple[str, ...]) -> None:
    if not objs:
        return
    db = _writer(objs[0])
    model = type(objs[0])
    if db.vendor != "postgresql" or len(objs) * (len(fields) + 1) > 30_000:
        model.objects.bulk_update(objs, fields)
        return
    head, row, tail, targets = _update_many_plan(model, fields, db.alias)
    params = []
    for obj in objs:
        params.append(obj.pk)
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection=db) for f in targets)
    with db.cursor() as cursor:
        cursor.execute(f"{head}{', '.join([row] * len(objs))}{tail}", params)
        if cursor.rowcount != len(objs):
            raise DatabaseError(f"{head[:60]}...: {cursor.rowcount} rows, not {len(objs)}")


def rows_where(model, column: str, values, *, related: Sequence[str] = (), lock: bool = False):
    """The rows of ``model`` whose ``column`` is one of ``values``, in primary-key order,
    each with its ``related`` foreign-key rows attached, and locked (FOR UPDATE OF the
    model's table only) with ``lock``: what ``model.objects.filter(<column>__in=values)
    .select_related(*related).order_by("pk")`` (``.select_for_update(of=("self",))``)
    returns. ``related`` names non-null foreign keys (an INNER JOIN, as select_related
    makes for them). PostgreSQL: one statement written once per (model, column,
    related, lock), the values passed as one array; elsewhere that queryset."""
    db = transaction.get_connection(
        router.db_for_write(model) if lock else router.db_for_read(model)
    )
    values = sorted(set(values))
    if db.vendor != "postgresql":
        queryset = model.objects.select_related(*related)
        if lock:
            queryset = queryset.select_for_update(of=("self",))
        return list(queryset.filter(**{f"{column}__in": values}).order_by("pk"))
    statement, parts = _select_plan(model, column, tuple(related), lock, db.alias)
    with db.cursor() as cursor:
        cursor.execute(statement, [values])
        rows = cursor.fetchall()
    found = []
    for values_of_row in rows:
        instances, start = [], 0
        for part_model, attnames, converting in parts:
            chunk = list(values_of_row[start : start + len(attnames)])
            start += len(attnames)
            for i, (column_ref, converters) in converting:
                for convert in converters:
                    chunk[i] = convert(chunk[i], column_ref, db)
            instances.append(part_model.from_db(db.alias, attnames, chunk))
        obj = instances[0]
        for name, rel in zip(related, instances[1:], strict=True):
            model._meta.get_field(name).set_cached_value(obj, rel)
        found.append(obj)
    return found


def _writer(obj):
    """The connection that writes ``obj``'s model."""
    return transaction.get_connection(router.db_for_write(type(obj), instance=obj))


def _insert(db, objs: list, conflicts: str = "") -> list:
    """Run the INSERT of ``objs`` (no primary keys set) and set what the database
    returned on them; the objects written (none if the one object conflicted)."""
    head, row, tail, fields, returning = _insert_plan(type(objs[0]), db.alias)
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection=db) for f in fields)
    with db.cursor() as cursor:
        cursor.execute(f"{head} VALUES {', '.join([row] * len(objs))}{conflicts}{tail}", params)
        rows = cursor.fetchall()
    if not rows:
        return []
    for obj, values in zip(objs, rows, strict=True):
        for (field, column, converters), value in zip(returning, values, strict=True):
            for convert in converters:
                value = convert(value, column, db)
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = db.alias
    return objs


@functools.cache
def _insert_plan(model, alias: str):
    """(INSERT head, one row's placeholders, RETURNING tail, fields written, (field,
    column, converters) of the fields returned) of a model."""
    db = transaction.get_connection(alias)
    meta = model._meta
    quote = db.ops.quote_name
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = list(meta.db_returning_fields)
    tail = f" RETURNING {', '.join(quote(f.column) for f in returning)}"
    converting = [(f, *_converters(f, meta.db_table, db)) for f in returning]
    return head, row, tail, fields, converting


def _converters(field, table: str, db):
    """(column, converters) of a field as the ORM reads it: the backend's and the
    field's own (from_db_value) converters of its column."""
    column = field.get_col(table)
    return column, db.ops.get_db_converters(column) + column.get_db_converters(db)


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


@functools.cache
def _update_many_plan(model, fields: tuple[str, ...], alias: str):
    """(UPDATE ... FROM (VALUES head, one row's placeholders, tail, fields) of a model."""
    db = transaction.get_connection(alias)
    quote = db.ops.quote_name
    meta = model._meta
    targets = [meta.get_field(name) for name in dict.fromkeys(fields)]
    table = quote(meta.db_table)
    columns = [quote(meta.pk.column), *(quote(f.column) for f in targets)]
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in targets)
    # the VALUES' types come from their casts (a bare parameter would be text)
    row = "(" + ", ".join(f"%s::{f.cast_db_type(db)}" for f in [meta.pk, *targets]) + ")"
    head = f"UPDATE {table} SET {assignments} FROM (VALUES "
    tail = f") AS v({', '.join(columns)}) WHERE {table}.{columns[0]} = v.{columns[0]}"
    return head, row, tail, targets


@functools.cache
def _select_plan(model, column: str, related: tuple[str, ...], lock: bool, alias: str):
    """The statement of ``rows_where`` and, per model of a row (the model, then each
    related one), its fields' attnames and the converters of the columns that need them."""
    db = transaction.get_connection(alias)
    quote = db.ops.quote_name
    meta = model._meta
    models_and_aliases = [(model, "t0")]
    joins = []
    for i, name in enumerate(related, start=1):
        field = meta.get_field(name)
        target = field.related_model
        models_and_aliases.append((target, f"t{i}"))
        joins.append(
            f"INNER JOIN {quote(target._meta.db_table)} t{i} "
            f"ON t{i}.{quote(target._meta.pk.column)} = t0.{quote(field.column)}"
        )
    select, parts = [], []
    for part_model, table_alias in models_and_aliases:
        fields = list(part_model._meta.concrete_fields)
        select.extend(f"{table_alias}.{quote(f.column)}" for f in fields)
        converting = []
        for i, f in enumerate(fields):
            column_ref, converters = _converters(f, part_model._meta.db_table, db)
            if converters:
                converting.append((i, (column_ref, converters)))
        parts.append((part_model, [f.attname for f in fields], converting))
    where = quote(meta.get_field(column).column)
    statement = (
        f"SELECT {', '.join(select)} FROM {quote(meta.db_table)} t0 {' '.join(joins)} "
        f"WHERE t0.{where} = ANY(%s) ORDER BY t0.{quote(meta.pk.column)}"
        + (" FOR UPDATE OF t0" if lock else "")
    )
    return statement, parts
