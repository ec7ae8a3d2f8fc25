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

from bookkeeping.amga_adapter.client.client import CommandException, ConnectionLost, MDClient
from bookkeeping.amga_adapter.protocol import COMMANDS, ProtocolError, parse_request, quote
from bookkeeping.amga_adapter.protocol import requests as rq
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.errors import ConfigError, DatabaseUnavailable


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
@click.option(
    "--mount",
    "mounts",
    multiple=True,
    metavar="/PATH=amga://HOST:PORT/PATH",
    help="Serve PATH from another server, as each caller (repeatable; also $BK_AMGA_MOUNTS).",
)
@click.option(
    "--forward-writes",
    "forwards",
    multiple=True,
    metavar="/PATH=amga://HOST:PORT",
    help="PATH is a slave subtree: send its writes to the master, as each caller.",
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
    mounts: tuple[str, ...],
    forwards: tuple[str, ...],
) -> None:
    """Serve the catalogue to AMGA clients until SIGTERM/SIGINT."""
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue
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
    from bookkeeping.replication.mounts import MountingCatalogue, parse_mounts

    mount_table = parse_mounts(
        mounts or settings.amga_mounts, forwards or settings.amga_write_forwards
    )
    try:
        catalogue: object = Catalogue(engine)
        if mount_table:
            catalogue = MountingCatalogue(catalogue, mount_table)
        server = AmgaServer(catalogue, server_settings)
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
    """An interactive AMGA shell (amga://user@host:port, or host:port; amgas:// for TLS).

    Words are quoted with single quotes as on the wire, or with double quotes as in a
    shell; 'help' lists the commands."""
    if "://" not in url:
        url = f"amga://{url if '@' in url else 'anonymous@' + url}"
    try:
        client = MDClient.from_url(url, password=password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    if cert or ca or url.startswith("amgas://"):
        client.requireSSL(key=key, cert=cert, ca=ca)
    if password is None and client.login != "anonymous" and not cert:
        client.password = click.prompt(f"Password for {client.login}", hide_input=True)
    console = Console()
    try:
        client.whoami()  # connect and log in now: a refusal ends here, before the banner
    except ConnectionLost as exc:
        client.close()
        raise DatabaseUnavailable(
            f"cannot connect to {client.host}:{client.port}: {exc.server_message}"
        ) from None
    except CommandException as exc:
        client.close()
        message = f"{client.host}:{client.port} refused the login: {exc.server_message}"
        raise ConfigError(message) from None
    except OSError as exc:
        client.close()
        raise DatabaseUnavailable(
            f"cannot connect to {client.host}:{client.port}: {exc.strerror or exc}"
        ) from None
    save_history = _enable_history()
    try:
        console.print(f"[bold]{client.host}:{client.port}[/] as {client.login}; 'help', 'quit'")
        while True:
            try:
                line = input(f"{client.login}@{client.host}> ").strip()
            except EOFError:
                break
            if line in {"quit", "exit"}:
                break
            if not line:
                continue
            if line in {"help", "?"}:
                console.print("Commands: " + ", ".join(sorted(COMMANDS)) + "; quit")
                continue
            try:
                _run_line(client, shell_quoted(line), console)
            except CommandException as exc:
                console.print(f"[red]Error {exc.code}:[/] {exc.server_message}")
            except (ProtocolError, OSError, ValueError) as exc:
                console.print(f"[red]Error:[/] {exc}")
    finally:
        save_history()
        client.close()


def shell_quoted(line: str) -> str:
    """``line`` with its top-level double-quoted words in the protocol's single quotes
    (``addentry /d/e name "two words"``); double quotes inside single quotes (string
    literals of a condition) are left alone."""
    out: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "'":  # copy a single-quoted word whole, escapes included
            end = index + 1
            while end < len(line) and line[end] != "'":
                end += 2 if line[end] == "\\" else 1
            out.append(line[index : end + 1])
            index = end + 1
        elif char == '"':
            end, word = index + 1, []
            while end < len(line) and line[end] != '"':
                if line[end] == "\\" and end + 1 < len(line):
                    end += 1
                word.append(line[end])
                end += 1
            out.append(quote("".join(word)))
            index = end + 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


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
