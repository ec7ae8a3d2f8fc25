"""Shared CLI plumbing: the ``--db`` option, settings resolution and error reporting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bookkeeping.config import Settings, load_settings
from bookkeeping.engines import create_engine
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable

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


def engine_for(settings: Settings) -> Engine:
    return create_engine(settings.resolved_database_url, pool_size=settings.pool_size)


def fail(message: str, code: int = 1) -> None:
    click.secho(f"Error: {message}", err=True, fg="red")
    raise SystemExit(code)


def report_errors(function: F) -> F:
    """Turn our errors and unreachable databases into one clear line and exit status 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BookkeepingError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(str(DatabaseUnavailable(f"cannot use the database: {exc.orig}")))

    return wrapper  # type: ignore[return-value]
