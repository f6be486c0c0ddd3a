"""django-import-export glue shared by the apps' ``resources.py``.

- :class:`CsvFormat`: the admin's CSV reader with the rules of ``kernel.csvio`` (UTF-8 with
  or without BOM, comma or semicolon detected);
- :class:`ValidatedResourceMixin`: runs the same whole-file validation as the commands
  before any row is imported, reports each bad row as an invalid row of the preview, and
  rolls the whole import back if any row is invalid;
- :class:`CsvImportExportAdmin`: ``ImportExportModelAdmin`` with those formats.
"""

from __future__ import annotations

import csv
import io

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from kernel.csvio import (
    CsvFileError,
    decode,
    may_hold_guarded_cells,
    table_from_rows,
    unguard_cell,
    write_csv,
)


class GuardedCsvFormat(base_formats.CSV):
    """The admin's CSV export, written by ``kernel.csvio.write_csv``: text cells that a
    spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``...) are guarded."""

    def export_data(self, dataset, **kwargs):
        out = io.StringIO()
        write_csv(dataset, out, header=list(dataset.headers or []))
        return out.getvalue()


class CsvFormat(GuardedCsvFormat):
    """CSV that reads comma- or semicolon-separated UTF-8, with or without a BOM."""

    def get_title(self):
        return "csv"

    def is_binary(self):
        return True  # we decode ourselves, with clear messages

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        text = decode(bytes(in_stream)) if not isinstance(in_stream, str) else in_stream
        text = text.lstrip("\ufeff")
        first_line = text.split("\n", 1)[0]
        delimiter = max((",", ";"), key=lambda d: len(next(csv.reader([first_line], delimiter=d))))
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        if may_hold_guarded_cells(text):  # our own export, guarded against formulas
            records = [[unguard_cell(cell) for cell in record] for record in records]
        header = [h.strip() for h in (records[0] if records else [])]
        body = [r for r in records[1:] if any(cell.strip() for cell in r)]
        # Rows longer than the header (an unquoted comma decimal, say) keep their extra
        # cells in "_extra" columns, so the validation can say what went wrong.
        width = max([len(header), *(len(r) for r in body)])
        dataset = tablib.Dataset(headers=header + [f"_extra{i}" for i in range(len(header), width)])
        for record in body:
            dataset.append(record + [""] * (width - len(record)))
        return dataset


def row_error_text(message: str, value: str = "") -> str:
    """How the admin's preview words a row error: the message, then the cell's value."""
    return message + (f" (value {value!r})" if value else "")


def _row_errors(exc: CsvFileError) -> tuple[dict[int, dict[str, list[str]]], list[str]]:
    by_row: dict[int, dict[str, list[str]]] = {}
    file_errors: list[str] = []
    for error in exc.errors:
        if error.row <= 1:
            file_errors.append(str(error))
            continue
        by_row.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, []).append(
            row_error_text(error.message, error.value)
        )
    if exc.more:
        file_errors.append(f"... and {exc.more} more error(s)")
    return by_row, file_errors


def dataset_table(dataset, *, columns, required=(), decimals=()):
    """A CsvTable of a tablib Dataset (row numbers as in the file: header = 1)."""
    headers = list(dataset.headers or [])
    real = [h for h in headers if not str(h).startswith("_extra")]
    records = []
    for row in dataset:
        cells = ["" if c is None else str(c) for c in row]
        # drop trailing empty padding cells that CsvFormat added
        while len(cells) > len(real) and not cells[-1].strip():
            cells.pop()
        records.append(cells)
    return table_from_rows(real, records, columns=columns, required=required, decimals=decimals)


class ValidatedResourceMixin:
    """Whole-file validation before django-import-export's per-row import.

    Subclasses set ``csv_columns``, ``csv_required``, ``csv_decimals`` and implement
    ``csv_validate(table)`` (raising CsvFileError) returning parsed rows keyed by
    spreadsheet row number. Blank optional cells keep the current value, as in the
    commands."""

    csv_columns: tuple = ()
    csv_required: tuple = ()
    csv_decimals: tuple = ()
    csv_keep_blank: tuple = ()

    def csv_validate(self, table) -> dict[int, object]:
        raise NotImplementedError

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        kwargs["rollback_on_validation_errors"] = True
        kwargs.setdefault("use_transactions", True)
        self._csv_dry_run = dry_run
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._csv_user = kwargs.get("user")
        self._csv_errors: dict[int, dict[str, list[str]]] = {}
        self._csv_file_errors: list[str] = []
        self._csv_parsed: dict[int, object] = {}
        if dataset.headers:
            dataset.headers = [
                str(h or "").replace("\ufeff", "").strip().lower() for h in dataset.headers
            ]
        try:
            table = dataset_table(
                dataset,
                columns=self.csv_columns,
                required=self.csv_required,
                decimals=self.csv_decimals,
            )
            self._csv_parsed = self.csv_validate(table)
        except CsvFileError as exc:
            self._csv_errors, self._csv_file_errors = _row_errors(exc)
        if self._csv_file_errors:
            raise ValidationError("; ".join(self._csv_file_errors))

    def import_row(self, row, instance_loader, **kwargs):
        number = kwargs.get("row_number", 0) + 1
        if self._csv_file_errors:
            skipped = self.get_row_result_class()()
            skipped.import_type = RowResult.IMPORT_TYPE_SKIP
            return skipped
        errors = self._csv_errors.get(number)
        if errors:
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_INVALID
            result.validation_error = ValidationError(errors)
            return result
        for column in self.csv_keep_blank:
            if column in row and (row[column] is None or str(row[column]).strip() == ""):
                del row[column]
        self.csv_prepare_row(row, self._csv_parsed.get(number))
        return super().import_row(row, instance_loader, **kwargs)

    def csv_prepare_row(self, row, parsed) -> None:
        """Put the validated values into ``row`` (so widgets read canonical text)."""


def invalid_result(exc: CsvFileError, dataset, headers) -> Result:
    """An import-export Result listing the rows of a rejected file as invalid rows."""
    result = Result()
    result.diff_headers = list(headers)
    result.total_rows = len(dataset)
    by_row, file_errors = _row_errors(exc)
    if file_errors:
        result.append_base_error(Error(ValidationError("; ".join(file_errors))))
    dataset_headers = list(dataset.headers or [])
    for number, errors in sorted(by_row.items()):
        index = number - 2
        values = dataset[index] if 0 <= index < len(dataset) else ()
        row = dict(zip(dataset_headers, values, strict=False))
        result.append_invalid_row(number - 1, row, ValidationError(errors))
        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
    return result


class CsvImportExportAdmin(ImportExportModelAdmin):
    """ImportExportModelAdmin whose CSV import follows the project's CSV rules."""

    import_formats = [CsvFormat]
    export_formats = [GuardedCsvFormat]
