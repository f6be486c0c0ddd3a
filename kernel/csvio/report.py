"""The error report and the result of a CSV import, progress, timing."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

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
