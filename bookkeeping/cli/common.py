"""Shared CLI plumbing: the ``--db`` option, settings resolution and error reporting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping import db_errors
from bookkeeping.config import Settings, load_settings
from bookkeeping.engines import create_engine
from bookkeeping.errors import BookkeepingError, SchemaNotInitialised

F = TypeVar("F", bound=Callable[..., Any])


def settings_from_context(ctx: click.Context, **overrides: Any) -> Settings:
    config_file: Path | None = (ctx.find_root().obj or {}).get("config_file")
    try:
        return load_settings(overrides, config_file=config_file)
    except BookkeepingError as exc:
        raise click.UsageError(str(exc), ctx=ctx) from None


def db_option(function: F) -> F:
    """Add ``--db URL`` and pass the resolved ``settings`` to the command."""

    @click.option(
        "--db",
        "database_url",
        metavar="URL",
        default=None,
        help="Database URL (default: $BK_DATABASE_URL, then the default SQLite file).",
    )
    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, database_url: str | None, **kwargs: Any) -> Any:
        settings = settings_from_context(ctx, database_url=database_url)
        return ctx.invoke(function, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def engine_for(settings: Settings, *, create: bool = False) -> Engine:
    """The primary's engine; with ``read_replicas`` its reads go to healthy standbys.

    A SQLite file that does not exist is an error (connecting would create it), unless
    ``create`` (``bk init``)."""
    url = sa.engine.make_url(settings.resolved_database_url)
    if (
        not create
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
    ):
        path = Path(url.database)
        if not url.database.startswith("file:") and not path.exists():
            raise SchemaNotInitialised(
                f"there is no database at {path}: create it with bk init --db "
                f"sqlite:///{path} (or point --db / BK_DATABASE_URL at yours)"
            )
    engine = create_engine(settings.resolved_database_url, pool_size=settings.pool_size)
    if settings.read_replicas:
        from bookkeeping.replication.routing import attach_replicas

        attach_replicas(
            engine,
            settings.read_replicas,
            max_lag_s=settings.replica_max_lag_s,
            pool_size=settings.pool_size,
        )
    return engine


def fail(message: str, code: int = 1) -> None:
    click.secho(f"Error: {message}", err=True, fg="red")
    raise SystemExit(code)


def one_line(exc: BaseException) -> str:
    """What the user is told about a failure: one line, no traceback."""
    if isinstance(exc, sa.exc.DBAPIError):
        exc = db_errors.translate(exc, "the command")
    if isinstance(exc, BookkeepingError):
        text = str(exc)
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        text = f"{where}{exc.strerror or exc}"
    else:
        text = (
            f"unexpected {type(exc).__name__}: {exc} "
            "(a bug: please report it with the output of --debug)"
        )
    first, *rest = text.splitlines() or [""]
    # A query error's caret diagram is part of its meaning: keep it; cut anything longer.
    return "\n".join([first, *rest[:2]]) if len(rest) <= 2 else first


class Commands(click.Group):
    """``bk``'s group: every failure a command lets escape becomes one line on stderr and
    exit status 1 (``--debug``, or ``BK_DEBUG=1``, shows the traceback instead)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise SystemExit(130) from None
        except Exception as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            fail(one_line(exc))


def report_errors(function: F) -> F:
    """Turn our errors and unreachable databases into one clear line and exit status 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (BookkeepingError, sa.exc.DBAPIError) as exc:
            if (click.get_current_context().find_root().obj or {}).get("debug"):
                raise
            fail(one_line(exc))

    return wrapper  # type: ignore[return-value]
