"""``bk init`` and ``bk db ...``: schema and database administration."""

from __future__ import annotations

import click

from bookkeeping import migrate
from bookkeeping.bootstrap import ROOT_USER, initialise
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings, mask_url


@click.command()
@db_option
@report_errors
def init(settings: Settings) -> None:
    """Upgrade the schema to the newest revision and create the root user.

    The root password comes from $BK_ROOT_PASSWORD; without it one is generated and printed
    once. Running init again changes nothing.
    """
    engine = engine_for(settings, create=True)
    try:
        result = initialise(engine, settings.root_password)
    finally:
        engine.dispose()
    url = mask_url(settings.resolved_database_url)
    if result.revision_before == result.revision_after:
        click.echo(f"Schema of {url} already at revision {result.revision_after}.")
    else:
        before = result.revision_before or "empty"
        click.echo(f"Upgraded {url}: {before} -> {result.revision_after}.")
    if result.root_created:
        click.echo(f"Created user '{ROOT_USER}'.")
        if result.generated_root_password:
            click.echo(
                f"Generated password for '{ROOT_USER}' (shown only now): "
                f"{result.generated_root_password}"
            )
    else:
        click.echo(f"User '{ROOT_USER}' exists; left unchanged.")


@click.group()
def db() -> None:
    """Database administration."""


@db.command("url")
@db_option
def db_url(settings: Settings) -> None:
    """Print the database URL in use, with its password masked."""
    click.echo(mask_url(settings.resolved_database_url))


@db.command("current")
@db_option
@report_errors
def db_current(settings: Settings) -> None:
    """Print the schema revision of the database and the newest one available."""
    engine = engine_for(settings)
    try:
        current = migrate.current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"current: {current or 'none (run bk init)'}")
    click.echo(f"head:    {migrate.head_revision()}")
