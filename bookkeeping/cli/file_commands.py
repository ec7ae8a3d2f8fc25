"""``bk file hide|show`` and ``bk replica add|remove|change``: changes to recorded files.

Each command changes every LFN given (as arguments, or one a line from ``--from FILE``, ``-``
for standard input) in one atomic call of the ``BookkeepingWriter`` (all or none; see
bookkeeping/writer/changes.py). With ``--backend both`` the warehouse and the catalogue
are changed one after the other, each atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from bookkeeping.backends import open_writers
from bookkeeping.cli.bookkeeping_commands import WRITE_BACKENDS, engine_with_schema
from bookkeeping.cli.common import db_option, report_errors
from bookkeeping.config import Settings
from bookkeeping.interface import BookkeepingWriter, ReplicaKey, ReplicaSpec
from bookkeeping.writer.model import REPLICA_STATUSES, STORAGE_CLASSES

Change = Callable[[BookkeepingWriter, list[str]], int]


def _lfns(arguments: tuple[str, ...], source: Path | None) -> list[str]:
    lfns = list(arguments)
    if source is not None:
        with click.open_file(str(source)) as stream:  # "-" is standard input
            text = stream.read()
        lfns += [line.strip() for line in text.splitlines() if line.strip()]
    if not lfns:
        raise click.UsageError("give at least one LFN (arguments or --from FILE)")
    return lfns


def _apply(
    settings: Settings, backend: str | None, lfns: list[str], change: Change, what: str
) -> None:
    """Make ``change`` with each writer, saying what each did as soon as it is done (with
    ``--backend both`` a failure of the second leaves the first changed)."""
    engine = engine_with_schema(settings)
    try:
        for name, writer in open_writers(engine, backend or settings.backend).items():
            count = change(writer, lfns)
            click.echo(f"{name}: {count} of {len(set(lfns))} files {what}")
    finally:
        engine.dispose()


def _common(function: Callable[..., None]) -> Callable[..., None]:
    function = click.argument("lfns", nargs=-1)(function)
    function = click.option(
        "--from",
        "source",
        type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
        help="Read LFNs from this file, one a line (- for standard input).",
    )(function)
    function = click.option(
        "--backend",
        type=WRITE_BACKENDS,
        default=None,
        help="Implementation(s) to change (default: $BK_BACKEND, else catalogue).",
    )(function)
    return db_option(function)


@click.group("file")
def file_group() -> None:
    """Recorded files: make them invisible (LHCb never deletes them) or visible again."""


def _visibility(visible: bool) -> Callable[..., None]:
    @_common
    @report_errors
    def command(
        settings: Settings, backend: str | None, source: Path | None, lfns: tuple[str, ...]
    ) -> None:
        wanted = _lfns(lfns, source)
        what = "made visible" if visible else "made invisible"
        _apply(settings, backend, wanted, lambda w, x: w.set_visibility(x, visible), what)

    return command


file_group.command("hide", help="Make the files LFN... invisible.")(_visibility(False))
file_group.command("show", help="Make the files LFN... visible again.")(_visibility(True))


def _copy_options(function: Callable[..., None]) -> Callable[..., None]:
    function = click.option("--area", default="", help="The disk area of a recall copy.")(function)
    function = click.option(
        "--class",
        "storage_class",
        type=click.Choice(STORAGE_CLASSES),
        required=True,
        help="Storage class of the copy.",
    )(function)
    return click.option("--site", required=True, help="Site of the copy, e.g. CERN.")(function)


@click.group("replica")
def replica_group() -> None:
    """Copies of recorded files: add (replicated, recalled), remove (cleaned), change."""


@replica_group.command("add")
@_copy_options
@click.option("--status", type=click.Choice(REPLICA_STATUSES), default="available")
@click.option("--pfn", default="", help="Physical file name of the copy.")
@_common
@report_errors
def add_command(
    settings: Settings,
    backend: str | None,
    source: Path | None,
    lfns: tuple[str, ...],
    site: str,
    storage_class: str,
    area: str,
    status: str,
    pfn: str,
) -> None:
    """Record a copy of each file LFN... (after its other copies)."""
    wanted = _lfns(lfns, source)
    spec = ReplicaSpec(site, storage_class, area, status, pfn)
    _apply(settings, backend, wanted, lambda w, x: w.add_replicas(x, spec), "got the copy")


@replica_group.command("remove")
@_copy_options
@_common
@report_errors
def remove_command(
    settings: Settings,
    backend: str | None,
    source: Path | None,
    lfns: tuple[str, ...],
    site: str,
    storage_class: str,
    area: str,
) -> None:
    """Forget a copy of each file LFN... (every file must have it)."""
    wanted = _lfns(lfns, source)
    key = ReplicaKey(site, storage_class, area)
    _apply(settings, backend, wanted, lambda w, x: w.remove_replicas(x, key), "lost the copy")


@replica_group.command("change")
@_copy_options
@click.option("--status", type=click.Choice(REPLICA_STATUSES), default=None)
@click.option("--pfn", default=None, help="New physical file name.")
@click.option("--new-area", default=None, help="New disk area of a recall copy.")
@_common
@report_errors
def change_command(
    settings: Settings,
    backend: str | None,
    source: Path | None,
    lfns: tuple[str, ...],
    site: str,
    storage_class: str,
    area: str,
    status: str | None,
    pfn: str | None,
    new_area: str | None,
) -> None:
    """Change the status, PFN or area of a copy of each file LFN... (every file must have
    it)."""
    if status is None and pfn is None and new_area is None:
        raise click.UsageError("say what changes: --status, --pfn or --new-area")
    wanted = _lfns(lfns, source)
    key = ReplicaKey(site, storage_class, area)
    _apply(
        settings,
        backend,
        wanted,
        lambda w, x: w.change_replicas(x, key, status=status, pfn=pfn, area=new_area),
        "changed",
    )
