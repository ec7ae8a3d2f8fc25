"""``bk views select``: a dataset selection by any of the roottree's attributes, answered by
the view builder (the roottree, then one union of the matching shards)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import get_args

import click

from bookkeeping.amga_adapter.bookkeeping.views.builder import ViewSelection
from bookkeeping.amga_adapter.bookkeeping.views.selection import view_files
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.interface import FileOrder, FilesPage
from bookkeeping.listing import format_size

USER = "root"
_COLUMNS = ["file_id", "lfn", "size", "events", "production", "run", "guid", "visible"]


def _production_range(
    _ctx: click.Context, _param: click.Parameter, text: str | None
) -> tuple[int, int] | None:
    if text is None:
        return None
    first, sep, last = text.partition("-")
    try:
        if not sep:
            raise ValueError
        low, high = int(first), int(last)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give FIRST-LAST, e.g. 12000-12999") from None
    if low > high:
        raise click.BadParameter(f"{text!r}: FIRST is after LAST")
    return low, high


@click.command("select")
@db_option
@click.option("--config", "config_name", help="Configuration name, e.g. LHCb.")
@click.option("--config-version", help="Configuration version, e.g. Collision12.")
@click.option(
    "--conditions",
    help="Conditions (the roottree's DBVERSION), e.g. Beam4000GeV-VeloClosed-MagDown.",
)
@click.option("--processing-pass", help="Processing pass, e.g. Real Data/Reco14.")
@click.option("--event-type", type=int, help="8-digit event type.")
@click.option("--file-type", help="File type, e.g. SDST.")
@click.option("--location", help="Site of the files' first copy, e.g. CERN.")
@click.option("--program", help='Program that wrote them, e.g. "Brunel v43r2p2".')
@click.option("--input-type", "input_file_type", help="File type they were made from, e.g. RAW.")
@click.option("--event-description", help="The event type's description.")
@click.option("--production", type=int, help="One production.")
@click.option(
    "--productions",
    "production_range",
    callback=_production_range,
    metavar="FIRST-LAST",
    help="A range of productions (inclusive).",
)
@click.option("--order", type=click.Choice(get_args(FileOrder)), default="lfn", show_default=True)
@click.option("--desc", "descending", is_flag=True, help="Descending order.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
)
@report_errors
def select_command(
    settings: Settings,
    order: FileOrder,
    descending: bool,
    offset: int,
    limit: int,
    output_format: str,
    **selection: object,
) -> None:
    """A page of the files selected by any roottree attributes, with the selection's totals.
    Options left out match every value. The examples are values of the data `bk generate`
    writes (`make demo`); `tests/views/test_select_help.py` runs each of them.

    \b
    Example:
      bk views select --file-type SDST --processing-pass "Real Data/Reco14" --limit 5
    """
    wanted = ViewSelection(**selection)  # type: ignore[arg-type]
    engine = engine_for(settings)
    session = Catalogue(engine).session(USER)
    try:
        page = view_files(session, wanted, offset, limit, order, descending)
    finally:
        session.close()
        engine.dispose()
    _show(page, output_format)


def _show(page: FilesPage, output_format: str) -> None:
    rows = [{column: asdict(record)[column] for column in _COLUMNS} for record in page.files]
    if output_format == "json":
        totals = {"files": page.total_files, "events": page.total_events, "bytes": page.total_bytes}
        click.echo(json.dumps({"totals": totals, "files": rows}, indent=1))
        return
    if output_format == "csv":
        import pandas as pd  # here: every other bk command would pay its import time

        pd.DataFrame(rows, columns=_COLUMNS).to_csv(sys.stdout, index=False)
        return
    shown = (
        f"files {page.offset + 1}-{page.offset + len(page.files)}:"
        if page.files
        else "no files on this page."
    )
    click.echo(
        f"{page.total_files} files, {page.total_events} events, "
        f"{format_size(page.total_bytes)}; {shown}"
    )
    for record in page.files:
        click.echo(
            f" {record.lfn}    {format_size(record.size)} {record.events} events"
            f" production {record.production}"
        )
