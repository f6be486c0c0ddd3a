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

Split by step: ``report`` (errors, results), ``reading``, ``values`` (cell parsing),
``writing`` (and bulk loading); import from here.
"""

from kernel.csvio.reading import (  # noqa: F401
    SAVE_AS,
    CsvTable,
    decode,
    read_csv,
    sniff_delimiter,
    table_from_rows,
)
from kernel.csvio.report import (  # noqa: F401
    MAX_REPORTED_ERRORS,
    PROGRESS_EVERY,
    CsvFileError,
    ErrorCollector,
    ImportResult,
    Progress,
    RowError,
    Timer,
    gc_paused,
)
from kernel.csvio.values import (  # noqa: F401
    check_length,
    in_chunks,
    parse_bool,
    parse_decimal,
    parse_distinct,
    parse_when,
    parse_whole,
)
from kernel.csvio.writing import (  # noqa: F401
    FORMULA_STARTS,
    Echo,
    Rollback,
    copy_rows,
    format_bool,
    format_decimal,
    format_when,
    guard_cell,
    guarded,
    may_hold_guarded_cells,
    stream_csv,
    unguard_cell,
    write_csv,
)
