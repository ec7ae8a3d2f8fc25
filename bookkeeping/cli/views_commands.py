"""``bk views rebuild``, ``bk views index`` and ``bk views check``: repair, index and verify
the roottree and shards."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bookkeeping.amga_adapter.catalogue import Catalogue
from bookkeeping.amga_adapter.session import CatalogueSession
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.cli.views_select import select_command
from bookkeeping.config import Settings
from bookkeeping.views.rebuild import Progress as Advance
from bookkeeping.views.rebuild import check, index_shards, rebuild

USER = "root"


@click.group()
def views() -> None:
    """The dataset views: roottree index and JobFileInfo<N> shards."""


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _with_progress(
    settings: Settings, label: str, work: Callable[[CatalogueSession, Advance], int]
) -> int:
    """Run ``work(session, advance)`` as root with a progress bar of ``label``."""
    engine = engine_for(settings)
    progress = _progress_bar(Console(stderr=True))
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
