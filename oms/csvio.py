"""Shared CSV reading, value parsing and the error report of every CSV import.

Every import (``manage.py import_*``, the staff upload page, the admin) reads its file
here, so the rules are the same everywhere:

- UTF-8 with or without a byte order mark; a binary file (an Excel workbook, a PDF, an
  image) or text in another encoding is refused with a message saying what to do;
- comma or semicolon separators, detected from the header line;
- headers matched case-insensitively (surrounding spaces ignored); unknown columns are
  ignored, so an export with extra columns imports as it is;
- numbers with a decimal point only: ``19,90`` is an error that says so.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is
row 2. A file with any bad row is rejected whole (:class:`CsvFileError` carries every
:class:`RowError`); the importers validate everything before they write anything.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# Errors kept in a report; past this the report says how many more there were.
MAX_REPORTED_ERRORS = 1000
# How many rows the importers validate between two progress reports.
PROGRESS_EVERY = 5000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    """One problem in a CSV file: ``row`` 1 is the header line, 2 the first data row;
    ``column`` is the canonical column name ("" for the whole row or file)."""

    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        value = f" (value {self.value!r})" if self.value else ""
        return f"{where}: {self.message}{value}"


class CsvFileError(Exception):
    """The file is rejected; nothing of it was written."""

    def __init__(self, errors: Sequence[RowError], *, rows: int = 0, more: int = 0):
        self.errors = sorted(errors, key=lambda e: (e.row, e.column))[:MAX_REPORTED_ERRORS]
        self.more = more + max(0, len(errors) - MAX_REPORTED_ERRORS)
        self.rows = rows
        count = len(self.errors) + self.more
        super().__init__(
            f"The file was rejected: {count} error(s); nothing was imported. "
            + "; ".join(str(e) for e in self.errors[:3])
            + (" ..." if count > 3 else "")
        )

    def as_list(self) -> list[dict]:
        return [e.as_dict() for e in self.errors]


class ErrorCollector:
    """Collects row errors while validating; keeps a bounded number of them."""

    def __init__(self, limit: int = MAX_REPORTED_ERRORS):
        self.items: list[RowError] = []
        self.more = 0
        self.limit = limit

    def add(self, row: int, column: str, value, message: str) -> None:
        if len(self.items) >= self.limit:
            self.more += 1
            return
        self.items.append(RowError(row, column, "" if value is None else str(value)[:200], message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def rows(self) -> set[int]:
        return {e.row for e in self.items}

    def raise_if_any(self, *, rows: int = 0) -> None:
        if self.items:
            raise CsvFileError(self.items, rows=rows, more=self.more)


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    kind: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    batch: str = ""
    dry_run: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rows_per_second"] = round(self.rows_per_second)
        data["seconds"] = round(self.seconds, 3)
        return data

    def summary(self) -> str:
        parts = [f"{self.rows} rows", f"new {self.new}", f"updated {self.updated}"]
        if self.kind == "orders":
            parts = [
                f"{self.rows} lines",
                f"new {self.new} orders ({self.extra.get('lines_new', 0)} lines)",
                f"skipped {self.skipped} already placed",
            ]
            if self.extra.get("confirmed"):
                parts.append(f"confirmed {self.extra['confirmed']}")
        else:
            parts.append(f"unchanged {self.unchanged}")
        parts.append("errors 0")
        text = ", ".join(parts) + f"; {self.seconds:.2f} s, {self.rows_per_second:,.0f} rows/s"
        if self.batch:
            text += f"; batch {self.batch}"
        if self.dry_run:
            text = "DRY RUN (nothing written): " + text
        return text

    def phases(self) -> str:
        phases = self.extra.get("phases") or {}
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a file is imported.

    Reading and validating a big file creates hundreds of thousands of small objects
    (cells, tuples, rows) and no reference cycles; each allocation-triggered collection
    scans every one of them again (a quarter of the validation time of a 100,000-line
    order file). Reference counting still frees everything; the collector runs again,
    as it was, afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Timer:
    """Elapsed time, with the duration of each phase (read, validate, write, commit)."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0) + now - self.last, 3)
        self.last = now


# --------------------------------------------------------------------------- reading

_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or a zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
)
SAVE_AS = "save it as CSV UTF-8 (comma- or semicolon-separated) and upload that"


def decode(data: bytes) -> str:
    """Bytes of an uploaded file -> text, or CsvFileError saying what is wrong."""
    if not data or not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise CsvFileError([RowError(1, "", "", "The file is empty")])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError([RowError(1, "", "", f"The file is UTF-16 text, not UTF-8; {SAVE_AS}")])
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise CsvFileError(
                [RowError(1, "", "", f"This is not a CSV file: it looks like {what}; {SAVE_AS}")]
            )
    head = data[:65536]
    if b"\x00" in head:
        raise CsvFileError(
            [
                RowError(
                    1, "", "", f"This is not a CSV text file (it contains binary data); {SAVE_AS}"
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise CsvFileError(
            [
                RowError(
                    line,
                    "",
                    f"0x{byte}",
                    f"The file is not UTF-8 text (byte 0x{byte} on line {line}; "
                    f"Windows-1252 or Latin-1 perhaps); {SAVE_AS}",
                )
            ]
        ) from None
    controls = sum(1 for ch in text[:4096] if ch < " " and ch not in "\t\r\n")
    if controls > 8:
        raise CsvFileError(
            [RowError(1, "", "", f"This is not a CSV text file (control characters); {SAVE_AS}")]
        )
    return text


def _normalize_header(name) -> str:
    return str(name or "").replace("\ufeff", "").strip().lower()


def sniff_delimiter(header_line: str, known: Iterable[str]) -> str:
    """Comma or semicolon: the one that splits the header into more known column names
    (then into more cells)."""
    known = set(known)

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(1 for c in cells if _normalize_header(c) in known), len(cells)

    return ";" if score(";") > score(",") else ","


@dataclass
class CsvTable:
    """A CSV file read into memory: canonical column names and stripped string cells.

    ``rows[i]`` holds the cells of ``columns`` (missing cells are ""), and
    ``row_numbers[i]`` the spreadsheet row number of that row.
    """

    columns: list[str]
    rows: list[Sequence[str]]
    row_numbers: list[int]
    delimiter: str = ","

    def __len__(self) -> int:
        return len(self.rows)

    def index(self, column: str) -> int | None:
        try:
            return self.columns.index(column)
        except ValueError:
            return None

    def has(self, column: str) -> bool:
        return column in self.columns


def _needs_strip(text: str, delimiter: str) -> bool:
    """Whether some cell may have surrounding spaces (a space or tab next to a
    separator, a quote or a line end); plain substring searches, fast on big files."""
    for space in (" ", "\t", "\xa0"):
        if space not in text:
            continue
        if text.startswith(space) or text.rstrip("\r\n").endswith(space):
            return True
        for edge in (delimiter, "\n", "\r", '"'):
            if space + edge in text or edge + space in text:
                return True
    return False


def read_csv(
    data: bytes | str,
    *,
    columns: Sequence[str],
    required: Sequence[str] = (),
    decimals: Iterable[str] = (),
) -> CsvTable:
    """Read a whole CSV file (bytes or text) into a :class:`CsvTable` of the known
    ``columns``; CsvFileError for an empty, binary or badly encoded file, a missing
    required column or a row with more cells than the header."""
    text = decode(data) if isinstance(data, bytes | bytearray | memoryview) else data
    if isinstance(data, str):
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise CsvFileError([RowError(1, "", "", "The file is empty")])
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line, columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvFileError([RowError(1, "", "", "The file is empty")]) from None
    table = table_from_rows(
        header,
        reader,
        columns=columns,
        required=required,
        decimals=decimals,
        text=True,
        strip=_needs_strip(text, delimiter),
        unguard=may_hold_guarded_cells(text),
    )
    table.delimiter = delimiter
    return table


def table_from_rows(
    header: Sequence,
    records: Iterable[Sequence],
    *,
    columns: Sequence[str],
    required: Sequence[str] = (),
    decimals: Iterable[str] = (),
    text: bool = False,
    strip: bool = True,
    unguard: bool = False,
) -> CsvTable:
    """Build a CsvTable from a header and records (a csv reader, a tablib Dataset).

    ``text``: every record is a list of str (a csv reader); ``strip`` False when no
    cell can have surrounding spaces (checked on the whole text by read_csv);
    ``unguard``: take off the formula-injection guard our exports add (``'=...``)."""
    errors = ErrorCollector()
    decimals = set(decimals)
    names = [_normalize_header(h) for h in header]
    positions: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in columns:
            if name in positions:
                errors.add(1, name, header[i], f"Column {name!r} appears twice in the header")
            positions.setdefault(name, i)
    for name in required:
        if name not in positions:
            errors.add(
                1,
                name,
                "",
                f"Missing required column {name!r} (the header must name: "
                + ", ".join(required)
                + ")",
            )
    errors.raise_if_any()
    present = [c for c in columns if c in positions]
    picks = [positions[c] for c in present]
    width = len(names)
    if len(picks) > 1:
        pick = itemgetter(*picks)
    else:
        pick = (lambda r: (r[picks[0]],)) if picks else (lambda r: ())
    rows: list[Sequence[str]] = []
    numbers: list[int] = []
    number = 1
    try:
        for record in records:
            number += 1
            if text and len(record) == width:
                # the common case, kept fast: a full row of text cells
                cells = pick(record)
                if strip:
                    cells = [c.strip() for c in cells]
                if unguard:
                    cells = [unguard_cell(c) for c in cells]
                if any(cells) or any(c.strip() for c in record):
                    rows.append(cells)
                    numbers.append(number)
                continue
            if not record or not any(str(c).strip() for c in record if c is not None):
                continue  # blank line
            if len(record) > width and any(str(c).strip() for c in record[width:]):
                split = _comma_decimal_split(record, names, decimals)
                if split is not None:
                    errors.add(
                        number,
                        names[split],
                        f"{record[split]},{record[split + 1]}",
                        "uses a comma as the decimal separator; write decimals with a point "
                        f"({record[split]}.{record[split + 1]})",
                    )
                else:
                    errors.add(
                        number,
                        "",
                        _delim_join(record),
                        f"The row has {len(record)} cells but the header has {width} "
                        "columns; a comma inside a number or text? Use a decimal point "
                        "(19.90) and quote text that contains the separator",
                    )
                continue
            cells = [_cell(record, p) for p in picks]
            if unguard:
                cells = [unguard_cell(c) for c in cells]
            rows.append(cells)
            numbers.append(number)
    except csv.Error as exc:
        errors.add(number + 1, "", "", f"The file is not valid CSV: {exc}")
    errors.raise_if_any(rows=len(rows))
    if not rows:
        raise CsvFileError([RowError(2, "", "", "The file has a header but no data rows")])
    return CsvTable(columns=present, rows=rows, row_numbers=numbers)


_INT_CELL_RE = re.compile(r"^\s*[+-]?\d+\s*$")
_FRACTION_CELL_RE = re.compile(r"^\d+\s*$")


def _comma_decimal_split(record: Sequence, names: Sequence[str], decimals) -> int | None:
    """Where an unquoted comma decimal (19,90) split a decimal column's cell in two."""
    if len(record) != len(names) + 1:
        return None
    for i, name in enumerate(names):
        if (
            name in decimals
            and _INT_CELL_RE.match(str(record[i]))
            and _FRACTION_CELL_RE.match(str(record[i + 1]))
        ):
            return i
    return None


def _cell(record: Sequence, position: int) -> str:
    if position >= len(record):
        return ""
    value = record[position]
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _delim_join(record: Sequence) -> str:
    return ",".join(str(c) for c in record)[:200]


# --------------------------------------------------------------------------- values
# Parsers raise ValueError with a message meant for the person who wrote the file.

_WHOLE_RE = re.compile(r"^\+?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_COMMA_DECIMAL_RE = re.compile(r"^[+-]?\d+,\d+$")
_TRUE = {"1", "true", "t", "yes", "y", "on", "x"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def parse_distinct(cells: Iterable[str], parse: Callable, **kwargs) -> dict | None:
    """cell -> ``parse(cell, **kwargs)`` for each distinct cell of a column; None as soon
    as one cell does not parse (the import's row-by-row pass then words the error)."""
    values = {}
    for cell in set(cells):
        try:
            values[cell] = parse(cell, **kwargs)
        except ValueError:
            return None
    return values


def parse_whole(value: str, *, maximum: int | None = None, positive: bool = False) -> int:
    """A whole number >= 0 (> 0 with ``positive``), at most ``maximum``."""
    if _WHOLE_RE.match(value):
        number = int(value)
    elif value.startswith("-") and _WHOLE_RE.match(value[1:]):
        raise ValueError("must not be negative")
    elif _DECIMAL_RE.match(value) or _COMMA_DECIMAL_RE.match(value):
        try:
            as_decimal = Decimal(value.replace(",", "."))
        except InvalidOperation:
            as_decimal = None
        if as_decimal is not None and as_decimal == as_decimal.to_integral_value():
            number = int(as_decimal)
            if number < 0:
                raise ValueError("must not be negative")
        else:
            raise ValueError("must be a whole number")
    elif not value:
        raise ValueError("is required")
    else:
        raise ValueError("must be a whole number")
    if positive and number == 0:
        raise ValueError("must be greater than 0")
    if maximum is not None and number > maximum:
        raise ValueError(f"must be at most {maximum:,}".replace(",", " "))
    return number


def parse_decimal(value: str, *, places: int = 2, maximum: Decimal | None = None) -> Decimal:
    """A decimal >= 0 written with a decimal point; rounded half up to ``places``."""
    if not value:
        raise ValueError("is required")
    if _COMMA_DECIMAL_RE.match(value):
        raise ValueError(
            f"uses a comma as the decimal separator; write decimals with a point "
            f"({value.replace(',', '.')}), without thousands separators"
        )
    if not _DECIMAL_RE.match(value):
        if "," in value or "." in value:
            raise ValueError(
                "is not a plain decimal number: use a decimal point and no thousands "
                "separators (e.g. 1234.50)"
            )
        raise ValueError("is not a decimal number")
    amount = Decimal(value)
    if amount < 0:
        raise ValueError("must not be negative")
    if maximum is not None and amount > maximum:
        raise ValueError(f"is too large (at most {maximum})")
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_bool(value: str, *, default: bool = True) -> bool:
    lowered = value.lower()
    if not lowered:
        return default
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("must be true or false (also accepted: 1/0, yes/no)")


def parse_when(value: str) -> datetime:
    """ISO 8601 date-time (``2026-11-26T10:00:00Z``, ``2026-11-26 10:00:00``) or a date;
    without an offset it is taken in the project's time zone."""
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime.combine(day, dtime.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError("is not a date/time; use ISO 8601, e.g. 2026-11-26T10:00:00Z")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def check_length(value: str, maximum: int) -> str:
    if len(value) > maximum:
        raise ValueError(f"is too long ({len(value)} characters; at most {maximum})")
    return value


def in_chunks(items: Sequence, size: int = 900):
    """Slices of ``items`` small enough for one IN (...) list on any database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
