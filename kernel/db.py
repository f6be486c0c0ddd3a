"""Database helpers shared by the services.

Transactions (``retry_on_conflict``), in-memory relations (``prime_related``) and three
named statements for the writes every order makes, each built once per model from its
meta instead of compiled by the ORM on every call (that compilation took most of the
time of writing an order's few rows): ``insert_new`` (INSERT ... RETURNING, as
``bulk_create``), ``insert_unless_duplicate`` (the same with ON CONFLICT DO NOTHING, as
``save()`` in a savepoint) and ``save_fields`` (UPDATE, as ``save(update_fields=...)``).
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
    signals. PostgreSQL: one UPDATE written once per (model, fields)."""
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
    converting = []
    for f in returning:
        column = f.get_col(meta.db_table)
        converting.append(
            (f, column, db.ops.get_db_converters(column) + column.get_db_converters(db))
        )
    return head, row, tail, fields, converting


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
