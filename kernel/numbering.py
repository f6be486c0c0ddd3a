"""Human-readable, unique numbers: SO-000042, SH-000007, PL-000003, RMA-000001,
PO-000004 (purchase orders), TR-000002 (transfers).

PostgreSQL: one sequence per kind (``nextval`` is non-transactional, so concurrent
placements never wait on each other; a rolled-back transaction leaves a gap, as Shopify's
numbers do). Other databases: a counter row updated inside the caller's transaction.
"""

from django.db import connection

from kernel.models import NumberSequence

PREFIXES = {
    "order": "SO",
    "shipment": "SH",
    "picklist": "PL",
    "return": "RMA",
    "import": "IMP",
    "manifest": "MF",
    "purchaseorder": "PO",
    "transfer": "TR",
}
WIDTH = 6


def sequence_name(kind: str) -> str:
    return f"oms_number_{kind}_seq"


def next_value(kind: str) -> int:
    if kind not in PREFIXES:
        raise ValueError(f"unknown number kind {kind!r}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [sequence_name(kind)])
            return cursor.fetchone()[0]
    NumberSequence.objects.get_or_create(name=kind)
    from django.db.models import F

    NumberSequence.objects.filter(name=kind).update(last_value=F("last_value") + 1)
    return NumberSequence.objects.get(name=kind).last_value


def format_number(kind: str, value: int) -> str:
    return f"{PREFIXES[kind]}-{value:0{WIDTH}d}"


def next_number(kind: str) -> str:
    return format_number(kind, next_value(kind))


def next_numbers(kind: str, count: int) -> list[str]:
    """``count`` numbers at once (bulk paths: CSV import)."""
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence_name(kind), count]
            )
            values = [row[0] for row in cursor.fetchall()]
    else:
        from django.db.models import F

        NumberSequence.objects.get_or_create(name=kind)
        NumberSequence.objects.filter(name=kind).update(last_value=F("last_value") + count)
        last = NumberSequence.objects.get(name=kind).last_value
        values = list(range(last - count + 1, last + 1))
    return [format_number(kind, v) for v in values]
