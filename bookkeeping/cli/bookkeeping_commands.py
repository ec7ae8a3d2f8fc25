"""``bk ingest``, ``bk generate`` and ``bk ls``: recording and listing the bookkeeping."""

from __future__ import annotations

import csv
import functools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from rich.progress import Progress, TaskID
from sqlalchemy.engine import Engine

from bookkeeping.backends import BACKENDS, open_bookkeeping, open_writers
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.errors import BookkeepingError, SchemaNotInitialised, ValidationError
from bookkeeping.generator import generate_reports
from bookkeeping.interface import LISTING_ATTRIBUTES, Level, ListingQuery
from bookkeeping.listing import format_line, parse_where
from bookkeeping.progress import progress_bar
from bookkeeping.storage.batch import upload_outputs
from bookkeeping.storage.materialise import DEFAULT_SCALE, Materialiser
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES
from bookkeeping.writer.model import JobReport, RecordResult, RecordStatus
from bookkeeping.writer.parsing import load_report
from bookkeeping.writer.service import DEFAULT_BATCH_SIZE, ingest_files, record_reports

WRITE_BACKENDS = click.Choice([*BACKENDS, "both"])


def _advance(progress: Progress, task: TaskID, batch: Sequence[RecordResult]) -> None:
    progress.advance(task, sum(result.files for result in batch))


def engine_with_schema(settings: Settings) -> Engine:
    engine = engine_for(settings)
    existing = set(sa.inspect(engine).get_table_names())
    missing = sorted(table.name for table in WAREHOUSE_TABLES if table.name not in existing)
    if missing:
        engine.dispose()
        raise SchemaNotInitialised(
            f"the database has no bookkeeping tables ({', '.join(missing)}); run bk init first"
        )
    return engine


@click.command()
@db_option
@click.option(
    "--backend",
    type=WRITE_BACKENDS,
    default=None,
    help="Implementation(s) to write to (default: $BK_BACKEND, else catalogue).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_BATCH_SIZE)
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--upload",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder holding the reports' output files (by name): put them on --se once recorded.",
)
@click.option("--se", "se", default=None, help="The storage element --upload puts files on.")
@report_errors
def ingest(
    settings: Settings,
    backend: str | None,
    batch_size: int,
    reports: tuple[Path, ...],
    upload: Path | None,
    se: str | None,
) -> None:
    """Record job reports (XML or JSON files).

    Each report is recorded whole or not at all; a report already recorded (same
    DIRAC_JobID) is skipped as a duplicate. A bad report is named with its problem and the
    others go on; the exit status is 1 if any report failed.
    """
    if (upload is None) != (se is None):
        raise click.UsageError("--upload and --se go together")
    engine = engine_with_schema(settings)
    try:
        writers = open_writers(engine, backend or settings.backend)
        with progress_bar() as progress:
            task = progress.add_task("Recording", total=len(reports))
            results = ingest_files(
                list(reports),
                writers,
                batch_size=batch_size,
                on_report=lambda: progress.advance(task),
            )
        if upload is not None and se is not None:
            _upload(engine, backend or settings.backend, writers, reports, upload, se)
    finally:
        engine.dispose()
    counts: dict[str, Counter[RecordStatus]] = {name: Counter() for name in writers}
    for item in results:
        counts[item.backend][item.result.status] += 1
        if item.result.status is RecordStatus.FAILED:
            click.secho(f"FAILED [{item.backend}] {item.result.error}", err=True, fg="red")
    for name, count in counts.items():
        click.echo(
            f"{name}: {count[RecordStatus.RECORDED]} recorded, "
            f"{count[RecordStatus.DUPLICATE]} duplicate, {count[RecordStatus.FAILED]} failed"
        )
    if any(count[RecordStatus.FAILED] for count in counts.values()):
        raise SystemExit(1)


def _upload(
    engine: Engine,
    choice: str,
    writers: dict[str, Any],
    reports: tuple[Path, ...],
    folder: Path,
    se: str,
) -> None:
    """Put the recorded reports' output files on ``se`` (bytes, then the copies' rows)."""
    parsed = []
    for path in reports:
        try:
            parsed.append(load_report(path))
        except BookkeepingError:
            continue  # reported above as FAILED
    bookkeeping = open_bookkeeping(engine, "warehouse" if choice == "both" else choice)
    done = upload_outputs(bookkeeping, list(writers.values()), StorageRegistry(engine), parsed,
                          folder, se)  # fmt: skip
    for lfn, problem in done.failed:
        click.secho(f"NOT UPLOADED {lfn}: {problem}", err=True, fg="red")
    click.echo(f"uploaded {len(done.done)} files to {se}, {len(done.failed)} not")
    if done.failed:
        raise SystemExit(1)


@click.command()
@db_option
@click.option("--files", "file_count", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--backend",
    type=WRITE_BACKENDS,
    default=None,
    help="Implementation(s) to write to (default: $BK_BACKEND, else catalogue).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_BATCH_SIZE)
@click.option(
    "--materialise",
    is_flag=True,
    help="Write a small real file for every copy, on storage elements (docs/storage.md).",
)
@click.option(
    "--storage-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where --materialise puts its storage elements (default: DATA_DIR/storage).",
)
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    default=DEFAULT_SCALE,
    show_default=True,
    help="--materialise writes Size // SCALE bytes per file.",
)
@report_errors
def generate(
    settings: Settings,
    file_count: int,
    seed: int,
    backend: str | None,
    batch_size: int,
    materialise: bool,
    storage_root: Path | None,
    scale: int,
) -> None:
    """Generate realistic productions with exactly FILES output files (reproducible from
    SEED) and record them through the writer's bulk path; with --materialise, with real
    bytes on disk pools, recall areas and emulated tape."""
    engine = engine_with_schema(settings)
    started = time.perf_counter()
    statuses: dict[str, Counter[RecordStatus]] = {}
    recorded_files: Counter[str] = Counter()
    materialiser = None
    if materialise:
        root = storage_root or settings.data_dir / "storage"
        materialiser = Materialiser(StorageRegistry(engine), root.absolute(), seed, scale)

    def reports() -> Iterator[JobReport]:
        made = generate_reports(file_count, seed)
        return materialiser.reports(made) if materialiser is not None else made

    try:
        writers = open_writers(engine, backend or settings.backend)
        with progress_bar() as progress:
            for name, writer in writers.items():
                task = progress.add_task(f"Generating into {name}", total=file_count)
                count: Counter[RecordStatus] = Counter()
                for result in record_reports(
                    writer,
                    reports(),
                    batch_size=batch_size,
                    on_batch=functools.partial(_advance, progress, task),
                ):
                    count[result.status] += 1
                    if result.status is RecordStatus.RECORDED:
                        recorded_files[name] += result.files
                    elif result.status is RecordStatus.FAILED:
                        click.secho(f"FAILED [{name}] {result.error}", err=True, fg="red")
                statuses[name] = count
    finally:
        if materialiser is not None:
            materialiser.close()
        engine.dispose()
    elapsed = time.perf_counter() - started
    if materialiser is not None:
        click.echo(
            f"materialised: {materialiser.files} files ({materialiser.bytes} bytes) written "
            f"under {materialiser.root}"
        )
    for name, count in statuses.items():
        click.echo(
            f"{name}: {count[RecordStatus.RECORDED]} jobs recorded "
            f"({recorded_files[name]} files), {count[RecordStatus.DUPLICATE]} already there, "
            f"{count[RecordStatus.FAILED]} failed"
        )
    # Only what was written counts: reports already recorded cost a look-up, not a write.
    written = sum(recorded_files.values())
    click.echo(f"{written} files recorded in {elapsed:.1f} s ({written / elapsed:.0f} files/s).")
    if any(count[RecordStatus.FAILED] for count in statuses.values()):
        raise SystemExit(1)


_LS_HELP = f"""List the files of file type TYPE (e.g. DST, RAW), kls style.

WHERE filters on file attributes with =, !=, <>, <, <=, >, >=, IN (...), AND, OR, NOT and
parentheses; strings are quoted. Attributes: {", ".join(sorted(LISTING_ATTRIBUTES))}.

\b
Example:
  bk ls DST "production = 12345 and run >= 111000 and quality = 'OK'"

Each line shows a file, its size and where it is: "offline" (a disk copy), "on tape"
(only a tape copy), "recalled: {{area n}}, ..." (the disk areas it was recalled to).
"""


@click.command("ls", help=_LS_HELP)
@db_option
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Implementation to read (default: $BK_BACKEND, else catalogue).",
)
@click.option("-d", "disk_only", is_flag=True, help="Only files with a copy on disk.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
)
@click.argument("file_type", metavar="TYPE")
@click.argument("where", required=False, default=None)
@report_errors
def ls(
    settings: Settings,
    backend: str | None,
    disk_only: bool,
    output_format: str,
    file_type: str,
    where: str | None,
) -> None:
    query = ListingQuery(file_type, parse_where(where) if where else None, disk_only)
    engine = engine_with_schema(settings)
    try:
        bookkeeping = open_bookkeeping(engine, backend or settings.backend)
        count = bookkeeping.count_listing(query)
        if count == 0:
            known = sorted({str(v.value) for v in bookkeeping.level_values(Level.FILE_TYPE)})
            if file_type not in known:
                hint = ", ".join(known) if known else "none: the bookkeeping is empty"
                raise ValidationError(
                    f"no file type {file_type!r} (types are case-sensitive); known: {hint}"
                )
        lines = bookkeeping.iter_listing(query)
        if output_format == "text":
            click.echo(f"Found {count} files:")
            for line in lines:
                click.echo(format_line(line))
        elif output_format == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["lfn", "size", "on_disk", "on_tape", "recalled"])
            for line in lines:
                writer.writerow(
                    [line.lfn, line.size, int(line.on_disk), int(line.on_tape),
                     ";".join(line.recalled)]
                )  # fmt: skip
        else:
            click.echo(f'{{"found": {count}, "files": [', nl=False)
            for index, line in enumerate(lines):
                item = {
                    "lfn": line.lfn,
                    "size": line.size,
                    "on_disk": line.on_disk,
                    "on_tape": line.on_tape,
                    "recalled": list(line.recalled),
                }
                click.echo(("," if index else "") + "\n  " + json.dumps(item), nl=False)
            click.echo("\n]}")
    finally:
        engine.dispose()
