"""The one progress-bar factory of the command-line tools (rich), on standard error so that
standard output stays the command's answer; silent when standard error is not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


def progress_bar(
    console: Console | None = None, *, elapsed: bool = False, transient: bool = True
) -> Progress:
    """A bar per task: description, bar, done/total, then the time remaining (or, with
    ``elapsed``, the time taken so far). ``transient`` bars vanish when they finish."""
    console = console or Console(stderr=True)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
    )
