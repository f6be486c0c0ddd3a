"""Base classes of the ``import_*`` and ``export_*`` management commands.

Imports read a file (or ``-`` for standard input), show a tqdm progress bar on a
terminal, and print a summary: new / updated / unchanged (or skipped) / errors, seconds
and rows per second. A rejected file prints one line per bad row and exits with status 1;
nothing of it is written. Exports stream rows to a file or to standard output.
"""

import argparse
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from kernel.csvio import CsvFileError, ImportResult, write_csv


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file to import, or - for standard input")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and count what would change, then roll everything back",
        )
        parser.add_argument(
            "--actor", default="system", help="Name recorded on ledger rows and events"
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Force the progress bar on or off (default: on when stderr is a terminal)",
        )

    def run_import(self, data: bytes, **kwargs) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, **options):
        name = options["file"]
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            data = path.read_bytes()
        show = options["progress"]
        bar = tqdm(
            total=0,
            unit=" rows",
            desc=f"{self.kind}: reading",
            file=sys.stderr,
            disable=(not show) if show is not None else None,
            unit_scale=True,
            leave=False,
        )

        def progress(done: int, total: int, phase: str = "") -> None:
            if bar.total != total:
                bar.total = total
            if phase:
                bar.set_description(f"{self.kind}: {phase}", refresh=False)
            bar.n = done
            bar.refresh()

        try:
            result = self.run_import(
                data, dry_run=options["dry_run"], actor=options["actor"], progress=progress
            )
        except CsvFileError as exc:
            bar.close()
            for error in exc.errors:
                self.stderr.write(str(error))
            if exc.more:
                self.stderr.write(f"... and {exc.more} more error(s)")
            count = len(exc.errors) + exc.more
            raise CommandError(
                f"{self.kind} file rejected: {count} error(s); nothing was imported"
            ) from None
        bar.close()
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(self.style.SUCCESS(f"{self.kind}: {result.summary()}"))
        if result.phases():
            self.stdout.write(f"{self.kind}: phases: {result.phases()}")
        return None


class _StdoutAdapter:
    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class ExportCommand(BaseCommand):
    kind = ""
    header: tuple = ()

    def add_arguments(self, parser):
        parser.add_argument(
            "-o", "--output", default="-", help="File to write (default: standard output)"
        )
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)

    def rows(self):
        raise NotImplementedError

    def count(self) -> int | None:
        return None

    def handle(self, *args, **options):
        started = time.perf_counter()
        output = options["output"]
        show = options["progress"]
        rows = self.rows()
        rows = tqdm(
            rows,
            total=self.count() if show or (show is None and sys.stderr.isatty()) else None,
            unit=" rows",
            unit_scale=True,
            desc=f"export {self.kind}",
            file=sys.stderr,
            disable=(not show) if show is not None else None,
            leave=False,
        )
        if output == "-":
            count = write_csv(rows, _StdoutAdapter(self.stdout), header=self.header)
        else:
            with open(output, "w", newline="", encoding="utf-8") as out:
                count = write_csv(rows, out, header=self.header)
        seconds = time.perf_counter() - started
        rate = count / seconds if seconds > 0 else 0
        self.stderr.write(
            f"export {self.kind}: {count} rows in {seconds:.2f} s ({rate:,.0f} rows/s)"
            + (f" to {output}" if output != "-" else "")
        )
