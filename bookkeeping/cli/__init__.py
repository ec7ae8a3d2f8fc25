"""The ``bk`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from bookkeeping import __version__
from bookkeeping.cli.amga_commands import amga
from bookkeeping.cli.bench_commands import bench
from bookkeeping.cli.bookkeeping_commands import generate, ingest, ls
from bookkeeping.cli.catalogue_commands import acl, group, user
from bookkeeping.cli.db_commands import db, init
from bookkeeping.cli.file_commands import file_group, replica_group
from bookkeeping.cli.views_commands import views
from bookkeeping.cli.web_commands import token, web


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bk")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML settings file (default: $BK_CONFIG). Flags and BK_* variables override it.",
)
@click.pass_context
def main(ctx: click.Context, config_file: Path | None) -> None:
    """Bookkeeping for physics data on an AMGA-style catalogue and a relational warehouse."""
    ctx.obj = {"config_file": config_file}


main.add_command(init)
main.add_command(db)
main.add_command(amga)
main.add_command(ingest)
main.add_command(generate)
main.add_command(ls)
main.add_command(file_group)
main.add_command(replica_group)
main.add_command(bench)
main.add_command(web)
main.add_command(token)
main.add_command(user)
main.add_command(group)
main.add_command(acl)
main.add_command(views)
