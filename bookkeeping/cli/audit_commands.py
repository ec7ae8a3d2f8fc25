"""``bk se audit NAME``: the consistency audit of a storage element (docs/syncat.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bookkeeping.backends import open_bookkeeping
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.audit import DEFAULT_MAX_LOST_FRACTION, audit, send_findings
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.transport import open_transport
from bookkeeping.syncat.trust import load_signer


@click.command("audit")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--send", is_flag=True, help="Send the findings to the catalogue as messages.")
@click.option(
    "--max-lost-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_MAX_LOST_FRACTION,
    show_default=True,
    help="Refuse to send anything when more of the SE's copies than this look lost.",
)
@click.option("--requester", default="root", show_default=True, help="On whose behalf.")
@click.option("--key-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--prefix", default="", help="Queue name prefix.")
@db_option
@report_errors
def se_audit(
    settings: Settings,
    name: str,
    fmt: str,
    send: bool,
    max_lost_fraction: float,
    requester: str,
    key_dir: Path | None,
    prefix: str,
) -> None:
    """Compare the SE NAME's listing with the catalogue: dark files (on the SE, not in the
    catalogue) and lost ones (in the catalogue, not on the SE)."""
    engine = engine_for(settings)
    try:
        element = StorageRegistry(engine).open(name)
        try:
            report = audit(open_bookkeeping(engine, settings.backend), element)
        finally:
            element.close()
        if fmt == "json":
            click.echo(json.dumps(report.as_json(), indent=2))
        else:
            click.echo(
                f"{report.se}: {report.listed} files listed, {report.catalogue} copies in the "
                f"catalogue, {len(report.dark)} dark, {len(report.lost)} lost "
                f"({report.seconds['total']:.2f} s)"
            )
            for path in report.dark:
                click.echo(f"dark  {path}")
            for lfn in report.lost:
                click.echo(f"lost  {lfn}")
        if send:
            directory = key_dir or settings.data_dir / "syncat" / "keys"
            signer = load_signer(directory, f"se:{name}")
            transport = open_transport(settings.syncat_broker, engine)
            try:
                messages = send_findings(
                    report,
                    transport,
                    Routing(prefix),
                    signer,
                    requester=requester,
                    max_lost_fraction=max_lost_fraction,
                )
            finally:
                transport.close()
            click.echo(f"sent {messages} messages", err=fmt == "json")
    finally:
        engine.dispose()
