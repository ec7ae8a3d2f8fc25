"""``bk views rebuild`` and ``bk views check``: repair and verify the roottree and shards."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bookkeeping.amga_adapter.catalogue import Catalogue
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.views.rebuild import check, rebuild

USER = "root"


@click.group()
def views() -> None:
    """The dataset views: roottree index and JobFileInfo<N> shards."""


@views.command("rebuild")
@db_option
@report_errors
def rebuild_command(settings: Settings) -> None:
    """Recreate the views from the bookkeeping directories (stop the writers first)."""
    engine = engine_for(settings)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    session = Catalogue(engine).session(USER)
    try:
        with progress:
            task = progress.add_task("combinations", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            count = rebuild(session, advance)
    finally:
        session.close()
        engine.dispose()
    click.echo(f"Rebuilt {count} combinations.")


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
