"""Reading a CSV file: the encoding, the separator, the header, the rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from kernel.csvio.report import CsvFileError, ErrorCollector, RowError
from kernel.csvio.writing import may_hold_guarded_cells, unguard_cell

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
