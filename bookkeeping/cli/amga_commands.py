"""``bk amga serve`` and ``bk amga shell``: the AMGA protocol server and an interactive client."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bookkeeping.amga_adapter.client import CommandException, MDClient
from bookkeeping.amga_adapter.protocol import ProtocolError, parse_request
from bookkeeping.amga_adapter.protocol import requests as rq
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings


@click.group()
def amga() -> None:
    """The AMGA wire protocol: serve the catalogue, or talk to a server."""


@amga.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8822, show_default=True, type=int, help="0 picks a free port.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tls-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA of client certificates; enables certificate login.",
)
@click.option("--idle-timeout", default=600.0, show_default=True, help="Seconds.")
@click.option(
    "--release-sessions",
    is_flag=True,
    help="Hand out a session id after each command and hang up (clients resume).",
)
@report_errors
def serve(
    settings: Settings,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_ca: Path | None,
    idle_timeout: float,
    release_sessions: bool,
) -> None:
    """Serve the catalogue to AMGA clients until SIGTERM/SIGINT."""
    from bookkeeping.amga_adapter.catalogue import Catalogue
    from bookkeeping.amga_adapter.server import AmgaServer, ServerSettings

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if tls_ca is not None and tls_cert is None:
        raise click.UsageError("--tls-ca needs --tls-cert and --tls-key")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = engine_for(settings)
    server_settings = ServerSettings(
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_ca=tls_ca,
        idle_timeout=idle_timeout,
        release_sessions=release_sessions,
    )
    try:
        server = AmgaServer(Catalogue(engine), server_settings)
        asyncio.run(server.serve_until_signalled())
    finally:
        engine.dispose()


@amga.command("shell")
@click.argument("url", default="amga://anonymous@127.0.0.1:8822")
@click.option("--password", envvar="BK_AMGA_PASSWORD", default=None, help="$BK_AMGA_PASSWORD.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="Client certificate.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="Its private key.")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False), help="Verify the server.")
def shell(
    url: str, password: str | None, cert: str | None, key: str | None, ca: str | None
) -> None:
    """An interactive AMGA shell (amga://user@host:port; amgas:// for TLS)."""
    client = MDClient.from_url(url, password=password)
    if cert or ca or url.startswith("amgas://"):
        client.requireSSL(key=key, cert=cert, ca=ca)
    if password is None and client.login != "anonymous" and not cert:
        client.password = click.prompt(f"Password for {client.login}", hide_input=True)
    console = Console()
    save_history = _enable_history()
    try:
        console.print(f"[bold]{client.host}:{client.port}[/] as {client.login}; 'quit' to leave")
        while True:
            try:
                line = input(f"{client.login}@{client.host}> ").strip()
            except EOFError:
                break
            if line in {"quit", "exit"}:
                break
            if not line:
                continue
            try:
                _run_line(client, line, console)
            except CommandException as exc:
                console.print(f"[red]Error {exc.code}:[/] {exc.server_message}")
            except (ProtocolError, OSError, ValueError) as exc:
                console.print(f"[red]Error:[/] {exc}")
    finally:
        save_history()
        client.close()


def _run_line(client: MDClient, line: str, console: Console) -> None:
    request = parse_request(line)  # local check first: a clear message, nothing sent
    if isinstance(request, rq.Upload | rq.Put):
        client.executeNoWait(line)
        return
    client.execute(line)
    headers = _headers(request)
    rows = []
    while not client.eot():
        rows.append([client.fetchRow() or "" for _ in headers])
    if rows:
        table = Table(*headers, show_lines=False)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:
        console.print("[green]OK[/]")


def _headers(request: rq.Request) -> Sequence[str]:
    if isinstance(request, rq.SelectAttributes):
        return request.items
    if isinstance(request, rq.GetAttributes):
        return ("entry", *request.attributes)
    if isinstance(request, rq.ListEntries):
        return ("name", "type")
    if isinstance(request, rq.ListAttributes):
        return ("attribute", "type")
    if isinstance(request, rq.Find):
        return ("entry",)
    if isinstance(request, rq.AclShow):
        return ("principal", "rights")
    return _SINGLE_COLUMN.get(type(request), ("result",))


_SINGLE_COLUMN: dict[type, tuple[str]] = {
    rq.PrintDir: ("directory",),
    rq.WhoAmI: ("user",),
    rq.SequenceNext: ("value",),
    rq.ConstraintList: ("constraint",),
}


def _enable_history() -> Callable[[], None]:
    """Line editing and a persistent history; returns the function that saves it."""
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return lambda: None
    from platformdirs import user_state_dir

    configured = os.environ.get("BK_AMGA_HISTORY")
    history = Path(configured) if configured else Path(user_state_dir("bk")) / "amga_history"
    history.parent.mkdir(parents=True, exist_ok=True)
    if history.exists():
        readline.read_history_file(history)
    readline.set_history_length(1000)
    return lambda: readline.write_history_file(history)
