"""The ``bk`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from bookkeeping import __version__
from bookkeeping.cli.aggregation_commands import aggregation, extract
from bookkeeping.cli.amga_commands import amga
from bookkeeping.cli.audit_commands import se_audit
from bookkeeping.cli.bench_commands import bench
from bookkeeping.cli.bookkeeping_commands import generate, ingest, ls
from bookkeeping.cli.catalogue_commands import acl, group, user
from bookkeeping.cli.common import Commands
from bookkeeping.cli.datahandling_commands import archive_group, close, recall_group
from bookkeeping.cli.db_commands import db, init
from bookkeeping.cli.file_commands import file_group, replica_group
from bookkeeping.cli.replication_commands import replication
from bookkeeping.cli.storage_commands import get_command, put_command, se_group, tape_group
from bookkeeping.cli.syncat_commands import syncat
from bookkeeping.cli.views_commands import views
from bookkeeping.cli.web_commands import token, web


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bk")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML settings file (default: $BK_CONFIG). Flags and BK_* variables override it.",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="BK_DEBUG",
    help="Show the traceback of a failure instead of one line.",
)
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, debug: bool) -> None:
    """Bookkeeping for physics data on an AMGA-style catalogue and a relational warehouse."""
    ctx.obj = {"config_file": config_file, "debug": debug}


main.add_command(init)
main.add_command(db)
main.add_command(amga)
main.add_command(ingest)
main.add_command(generate)
main.add_command(ls)
file_group.add_command(close)
main.add_command(file_group)
main.add_command(replica_group)
main.add_command(bench)
main.add_command(web)
main.add_command(token)
main.add_command(user)
main.add_command(group)
main.add_command(acl)
main.add_command(views)
main.add_command(syncat)
se_group.add_command(se_audit)
main.add_command(se_group)
main.add_command(tape_group)
main.add_command(archive_group)
main.add_command(recall_group)
main.add_command(put_command)
main.add_command(get_command)
main.add_command(aggregation)
main.add_command(extract)
main.add_command(replication)
