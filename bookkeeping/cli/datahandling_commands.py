"""``bk file close``, ``bk archive run|serve``, ``bk recall``, ``bk recall serve``: the data
handling of seed 004 (docs/datahandling.md)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bookkeeping.backends import BACKENDS, open_bookkeeping, open_writers
from bookkeeping.cli.bookkeeping_commands import WRITE_BACKENDS, engine_with_schema
from bookkeeping.cli.common import db_option, report_errors
from bookkeeping.cli.file_commands import _lfns
from bookkeeping.config import Settings
from bookkeeping.datahandling import config as dh_config
from bookkeeping.datahandling.archiver import ArchivePass
from bookkeeping.datahandling.claims import release, renew
from bookkeeping.datahandling.client import ENV_URL, RecallClient
from bookkeeping.datahandling.daemon import Loop, instance_name
from bookkeeping.datahandling.lifecycle import close_files
from bookkeeping.datahandling.server import RecallApp
from bookkeeping.datahandling.service import DataHandling
from bookkeeping.datahandling.storage import element_opener
from bookkeeping.datahandling.tables import archive_queue, copies


def _dh_settings() -> dh_config.DataHandlingConfig:
    root = click.get_current_context().find_root()
    return dh_config.load((root.obj or {}).get("config_file"))


@click.command("close")
@click.argument("lfns", nargs=-1)
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Read LFNs from this file, one a line (- for standard input).",
)
@click.option(
    "--backend",
    type=WRITE_BACKENDS,
    default=None,
    help="Implementation(s) to change (default: $BK_BACKEND, else catalogue).",
)
@db_option
@report_errors
def close(
    settings: Settings, backend: str | None, source: Path | None, lfns: tuple[str, ...]
) -> None:
    """Close the open files LFN... (read-only, ready to be analysed and archived), then
    apply the life-cycle rules ([[datahandling.rules]]; by default closing an mc file deletes
    the disk copies of its mcraw inputs)."""
    wanted = _lfns(lfns, source)
    rules = _dh_settings().rules
    engine = engine_with_schema(settings)
    try:
        opener = element_opener(engine)
        for name, writer in open_writers(engine, backend or settings.backend).items():
            reader = open_bookkeeping(engine, name)
            outcome = close_files(reader, writer, wanted, rules, opener)
            click.echo(f"{name}: {outcome.closed} of {len(set(wanted))} files closed")
            for copy in outcome.deleted:
                where = f"{copy.se}:{copy.path}" if copy.se else copy.path
                click.echo(f"{name}: deleted the disk copy of {copy.lfn} ({where})")
            for problem in outcome.problems:
                click.echo(f"{name}: {problem}", err=True)
    finally:
        engine.dispose()


def _backend_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default=None,
        help="The bookkeeping to read and record in (default: $BK_BACKEND, else catalogue).",
    )(function)


def _name_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--name",
        default=None,
        help="This daemon's name in its claims (default: <kind>@<host>); a daemon restarted "
        "under its name takes its unfinished work back at once.",
    )(function)


@contextmanager
def _data_handling(settings: Settings, backend: str | None) -> Iterator[DataHandling]:
    engine = engine_with_schema(settings)
    handling = DataHandling.open(engine, backend or settings.backend, _dh_settings())
    try:
        yield handling
    finally:
        handling.close()
        engine.dispose()


def _archive_line(report: ArchivePass) -> str:
    return (
        f"queued {report.queued}, written {report.written}, archived {report.archived}, "
        f"failed {report.failed}, disk copies deleted {report.deleted} ({report.freed} bytes)"
    )


@click.group("archive")
def archive_group() -> None:
    """The archiver: closed files to tape with few mounts, disk space back past the
    watermark."""


@archive_group.command("run")
@click.option("--flush", is_flag=True, help="Write every queue now, whatever its size or age.")
@_backend_option
@_name_option
@db_option
@report_errors
def archive_run(settings: Settings, backend: str | None, name: str | None, flush: bool) -> None:
    """One pass of the archiver."""
    with _data_handling(settings, backend) as handling:
        report = handling.archiver(instance_name("archiver", name)).run_once(flush_all=flush)
    for line in report.skipped or []:
        click.echo(line, err=True)
    click.echo(_archive_line(report))


@archive_group.command("serve")
@click.option(
    "--interval",
    type=click.FloatRange(0.01),
    default=10.0,
    show_default=True,
    help="Seconds between passes that found nothing to do.",
)
@_backend_option
@_name_option
@db_option
@report_errors
def archive_serve(
    settings: Settings, backend: str | None, name: str | None, interval: float
) -> None:
    """The archiver daemon; SIGTERM stops it after the pass in progress."""
    me = instance_name("archiver", name)
    with _data_handling(settings, backend) as handling:
        archiver = handling.archiver(me)

        def step() -> bool:
            report = archiver.run_once()
            if report.busy:
                click.echo(_archive_line(report))
            return report.busy

        loop = Loop(step, interval)
        loop.install_signals()
        every = max(0.1, handling.config.stale_after_seconds / 3)
        loop.heartbeat(lambda: renew(handling.engine, archive_queue, me), every)
        click.echo(f"archiver {me} running (pid {os.getpid()})")
        loop.run()
        release(handling.engine, archive_queue, me)
    click.echo(f"archiver {me} stopped")


class _DefaultRequest(click.Group):
    """``bk recall LFN...`` asks for files; ``bk recall serve|status|release|renew`` are
    subcommands (an LFN starts with ``/``, never a subcommand's name)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "request", self.commands["request"], args
        if args and args[0].startswith("-") and args[0] not in ("-h", "--help"):
            return "request", self.commands["request"], args
        return super().resolve_command(ctx, args)


@click.group("recall", cls=_DefaultRequest)
def recall_group() -> None:
    """Recall files to a recall area: ``bk recall LFN... [--area AREA...] [--wait]``, and
    the recall daemon (``bk recall serve``)."""


def _url_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--recall-url",
        envvar=ENV_URL,
        default=None,
        help=f"The recall daemon, http://host:port (default: ${ENV_URL}).",
    )(function)


def _format_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(function)


def _show(status: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    counts = status["counts"]
    click.echo(
        f"request {status['request']}: {counts['ready']} ready, {counts['waiting']} waiting, "
        f"{counts['failed']} failed"
    )
    for problem in status.get("problems", []):
        click.echo(f" {problem}")
    for item in status["files"]:
        where = {
            "ready": f"{{{item.get('area')}}} {item.get('url') or item.get('path')}",
            "waiting": "waiting",
            "failed": f"failed: {item.get('error')}",
        }[item["state"]]
        click.echo(f" {item['lfn']}    {where}")


@recall_group.command("request", hidden=True)
@click.argument("lfns", nargs=-1, required=True)
@click.option(
    "--area",
    "areas",
    multiple=True,
    help="An acceptable recall area (repeat); default: every recall area the daemon knows.",
)
@click.option("--wait", is_flag=True, help="Return only when every file is answered.")
@click.option(
    "--timeout",
    type=click.FloatRange(0),
    default=3600.0,
    show_default=True,
    help="Seconds --wait waits at most.",
)
@click.option(
    "--lease",
    type=click.IntRange(1),
    default=3600,
    show_default=True,
    help="Seconds each answered file stays pinned (renew or release later).",
)
@click.option(
    "--owner",
    default=None,
    help="Who asks, for a client the daemon lets act on behalf of others "
    "(default: the client of BK_RECALL_TOKEN).",
)
@_url_option
@_format_option
@report_errors
def recall_request(
    lfns: tuple[str, ...],
    areas: tuple[str, ...],
    wait: bool,
    timeout: float,
    lease: int,
    owner: str | None,
    recall_url: str | None,
    fmt: str,
) -> None:
    """Ask the recall daemon for the files LFN..."""
    client = RecallClient(recall_url)
    chosen = list(areas) or [area["name"] for area in client.areas()]
    status = client.submit(lfns, chosen, owner=owner, lease=lease)
    if wait and not status["done"]:
        status = client.wait(status["request"], timeout=timeout) | {
            "problems": status.get("problems", [])
        }
    _show(status, fmt)
    if status["counts"]["failed"]:
        raise SystemExit(1)


@recall_group.command("status")
@click.argument("request_id", type=int)
@_url_option
@_format_option
@report_errors
def recall_status(request_id: int, recall_url: str | None, fmt: str) -> None:
    """Where the files of recall request REQUEST_ID are."""
    _show(RecallClient(recall_url).status(request_id), fmt)


@recall_group.command("release")
@click.argument("request_id", type=int)
@_url_option
@report_errors
def recall_release(request_id: int, recall_url: str | None) -> None:
    """Unpin the files of request REQUEST_ID (done with them)."""
    click.echo(f"{RecallClient(recall_url).release(request_id)} pins released")


@recall_group.command("renew")
@click.argument("request_id", type=int)
@click.option("--lease", type=click.IntRange(1), default=3600, show_default=True)
@_url_option
@report_errors
def recall_renew(request_id: int, lease: int, recall_url: str | None) -> None:
    """Extend the pins of request REQUEST_ID by LEASE seconds from now."""
    click.echo(f"{RecallClient(recall_url).renew(request_id, lease)} pins renewed")


@recall_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8788,
    show_default=True,
    help="TCP port (0: any free one; the line 'listening on ...' says which).",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.01),
    default=5.0,
    show_default=True,
    help="Seconds between passes that found nothing to do.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="HTTP worker threads.",
)
@_backend_option
@_name_option
@db_option
@report_errors
def recall_serve(
    settings: Settings,
    backend: str | None,
    name: str | None,
    host: str,
    port: int,
    interval: float,
    threads: int,
) -> None:
    """The recall daemon: the HTTP/JSON API and the copying, in one process; SIGTERM stops
    it after the pass in progress (what is in flight resumes at the next start)."""
    from waitress import create_server

    me = instance_name("recall", name)
    with _data_handling(settings, backend) as handling:
        worker = handling.worker(me)
        loop = Loop(lambda: worker.run_once().busy, interval)
        app = RecallApp(
            handling.requests(),
            handling.elements.registry,
            default_lease=handling.config.lease_seconds,
            wake=loop.wake,
            clients=handling.config.recall_clients,
        )
        if not handling.config.recall_clients:
            click.echo(
                "warning: no [datahandling.recall_clients] configured: "
                "every recall request will be refused",
                err=True,
            )
        server = create_server(app, host=host, port=port, threads=threads)
        serving = threading.Thread(target=server.run, name="recall-http", daemon=True)
        serving.start()
        loop.install_signals()
        every = max(0.1, handling.config.stale_after_seconds / 3)
        loop.heartbeat(lambda: renew(handling.engine, copies, me), every)
        click.echo(f"recall daemon {me} listening on http://{host}:{server.effective_port}")
        loop.run()
        server.close()
        release(handling.engine, copies, me)
    click.echo(f"recall daemon {me} stopped")
