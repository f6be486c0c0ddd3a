"""Writing CSV (cells a spreadsheet would run as a formula guarded) and bulk loading."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import datetime

from django.utils import timezone

# --------------------------------------------------------------------------- writing


class Echo:
    """A file-like object whose write() returns the text (streaming HTTP responses)."""

    def write(self, value: str) -> str:
        return value


# Spreadsheet formula injection (OWASP "CSV Injection"): a text cell starting with one of
# these is run as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``,
# ``@SUM(1+1)``, ``+1+cmd|' /C calc'!A0``, ``-2+3``). Every CSV we write goes through
# ``guard_cell``, every CSV we read through ``unguard_cell``, so our own export imports
# back unchanged.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FIRST_CHARS = frozenset("=+-@\t\r'")
# A value that reads as guarded (quotes, then a formula start): guard_cell adds one
# quote, unguard_cell takes one away.
_GUARDED_RE = re.compile(r"'*[=+\-@\t\r]")
_PLAIN_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?")
_GUARDED_IN_TEXT_RE = re.compile(r"'+[=+\-@\t\r]")


def guard_cell(value):
    """The OWASP defence for one cell: text starting with ``= + - @``, tab or carriage
    return gets a leading ``'`` (the spreadsheet shows it as text, ``'`` hidden). Numbers
    (non-text values, and text that is a plain number such as ``-3`` or ``-2.50``) are
    left as they are: they cannot hold a formula. Text that already starts with quotes
    and a formula start gets one more quote, so ``unguard_cell`` is its exact inverse."""
    if type(value) is not str or not value or value[0] not in _FIRST_CHARS:
        return value
    if value[0] == "'":
        return "'" + value if _GUARDED_RE.match(value, 1) else value
    if value[0] == "-" and _PLAIN_NUMBER_RE.fullmatch(value):
        return value
    return "'" + value


def unguard_cell(value: str) -> str:
    """Undo ``guard_cell`` on a cell read from a CSV file."""
    if value[:1] == "'" and _GUARDED_RE.match(value, 1):
        return value[1:]
    return value


def may_hold_guarded_cells(text: str) -> bool:
    """Whether ``text`` (a whole file) has a cell that ``unguard_cell`` would change;
    one regex search, so files without one are read at full speed."""
    return _GUARDED_IN_TEXT_RE.search(text) is not None


def guarded(rows: Iterable[Sequence]) -> Iterator[Sequence]:
    """``rows`` with every cell through ``guard_cell``."""
    first = _FIRST_CHARS
    for row in rows:
        if any(type(c) is str and c[:1] in first for c in row):
            row = [guard_cell(c) for c in row]
        yield row


def write_csv(rows: Iterable[Sequence], out, *, header: Sequence[str]) -> int:
    """Write ``header`` and ``rows`` to the text stream ``out`` (text cells guarded
    against formula injection); returns the row count. Lines end with CRLF (RFC 4180):
    the csv module quotes a cell holding a line-end character only if it is in the
    terminator, so with a bare LF a carriage return inside a cell split the row."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in guarded(rows):
        writer.writerow(row)
        count += 1
    return count


def stream_csv(rows: Iterable[Sequence], *, header: Sequence[str], batch: int = 500):
    """Yield CSV text in chunks of ``batch`` rows (for StreamingHttpResponse); text
    cells guarded against formula injection, lines as in ``write_csv``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 1
    for row in guarded(rows):
        writer.writerow(row)
        pending += 1
        if pending >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def format_decimal(value) -> str:
    return "" if value is None else str(value)


def format_bool(value: bool) -> str:
    return "true" if value else "false"


def format_when(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat()


# --------------------------------------------------------------------------- bulk loading


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL: stream ``rows`` into ``table`` with COPY (psycopg 3). A database
    error is raised as Django's (IntegrityError...), as cursor.execute raises it."""
    db = getattr(cursor, "db", None)  # Django's cursor wrapper
    with db.wrap_database_errors if db is not None else nullcontext():
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class Rollback(Exception):
    """Raised inside the import transaction of a dry run to undo it."""
