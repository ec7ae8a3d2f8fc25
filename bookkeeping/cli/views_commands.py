"""``bk views rebuild``, ``bk views index``, ``bk views fold-copies`` and ``bk views check``:
repair, index, fold and verify the roottree and shards."""

from __future__ import annotations

from collections.abc import Callable

import click

from bookkeeping.amga_adapter.bookkeeping.views.fold import fold_copies
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import Progress as Advance
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check, index_shards, rebuild
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.cli.views_select import select_command
from bookkeeping.config import Settings
from bookkeeping.progress import progress_bar

USER = "root"


@click.group()
def views() -> None:
    """The dataset views: roottree index and JobFileInfo<N> shards."""


def _with_progress(
    settings: Settings, label: str, work: Callable[[CatalogueSession, Advance], int]
) -> int:
    """Run ``work(session, advance)`` as root with a progress bar of ``label``."""
    engine = engine_for(settings)
    progress = progress_bar()
    session = Catalogue(engine).session(USER)
    try:
        with progress:
            task = progress.add_task(label, total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return work(session, advance)
    finally:
        session.close()
        engine.dispose()


@views.command("rebuild")
@db_option
@report_errors
def rebuild_command(settings: Settings) -> None:
    """Recreate the views from the bookkeeping directories (stop the writers first)."""
    count = _with_progress(settings, "combinations", rebuild)
    click.echo(f"Rebuilt {count} combinations.")


@views.command("index")
@db_option
@report_errors
def index_command(settings: Settings) -> None:
    """Give every shard the ordered indexes it lacks (views written before shards had them)."""
    count = _with_progress(settings, "shards", index_shards)
    click.echo(f"Created {count} indexes.")


@views.command("fold-copies")
@db_option
@report_errors
def fold_copies_command(settings: Settings) -> None:
    """Fold the copies of shard rows written before the views folded them (the storage
    share then reads the shards alone); writers may run meanwhile."""
    count = _with_progress(settings, "shards", fold_copies)
    click.echo(f"Folded the copies of {count} files.")


views.add_command(select_command)


@views.command("check")
@db_option
@report_errors
def check_command(settings: Settings) -> None:
    """Compare the views with a rebuild; list the differences and exit 1 if any."""
    engine = engine_for(settings)
    session = Catalogue(engine).session(USER)
    try:
        differences = check(session)
    finally:
        session.close()
        engine.dispose()
    if differences:
        for line in differences:
            click.echo(line)
        click.secho(f"{len(differences)} differences between the views and a rebuild.", err=True)
        raise SystemExit(1)
    click.echo("The views agree with the bookkeeping.")
