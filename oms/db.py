"""Database helpers shared by the services."""

import functools
import logging
import random
import time

from django.db import IntegrityError, OperationalError, connection, router, transaction
from django.db.models import sql
from django.db.models.constants import OnConflict

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
    exists (``ON CONFLICT DO NOTHING``, SQLite ``INSERT OR IGNORE``). True: written,
    with its primary key (and database-returned fields) set; False: nothing written.

    PostgreSQL: one statement where ``save()`` in a savepoint takes three (SAVEPOINT,
    INSERT, RELEASE), and the caller's transaction stays usable either way; any other
    violation (NOT NULL, CHECK) raises. Like ``save()``, the fields' ``pre_save``
    (auto_now...) runs; unlike it, no model signals are sent. Other databases: ``save()``
    in a savepoint (SQLite's INSERT OR IGNORE would also skip a NOT NULL violation)."""
    model = type(obj)
    meta = model._meta
    using = router.db_for_write(model, instance=obj)
    db = transaction.get_connection(using)
    if db.vendor != "postgresql":
        try:
            with transaction.atomic(using=using):
                obj.save(force_insert=True, using=using)
        except IntegrityError:
            return False
        return True
    fields = [
        f
        for f in meta.local_concrete_fields
        if not f.generated and not (f is meta.auto_field and obj.pk is None)
    ]
    query = sql.InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = meta.db_returning_fields
    [(statement, params)] = compiler.as_sql()
    with db.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    for field, value in zip(meta.db_returning_fields, row, strict=True):
        column = field.get_col(meta.db_table)
        for convert in db.ops.get_db_converters(column) + column.get_db_converters(db):
            value = convert(value, column, db)  # as a query would
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True
