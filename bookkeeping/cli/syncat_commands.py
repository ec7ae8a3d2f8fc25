"""``bk syncat``: keys, sending by hand, the daemon and its figures (docs/syncat.md)."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine

from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.syncat import trust as keys_store
from bookkeeping.syncat.messages import Envelope, MessageType, parse_envelope
from bookkeeping.syncat.routing import Routing, send
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.transport import Transport, open_transport
from bookkeeping.syncat.wiring import build_service


def key_dir_of(settings: Settings, key_dir: Path | None) -> Path:
    return key_dir if key_dir is not None else settings.data_dir / "syncat" / "keys"


key_dir_option = click.option(
    "--key-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where this machine's endpoint keys are (default: <data dir>/syncat/keys).",
)
prefix_option = click.option(
    "--prefix", default="", help="Queue name prefix (installations sharing one broker)."
)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = engine_for(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@click.group()
def syncat() -> None:
    """Catalogue and storage elements kept in sync by signed messages."""


@syncat.group()
def keys() -> None:
    """Endpoint key pairs (Ed25519) and the whitelist of trusted senders."""


@keys.command("generate")
@click.argument("endpoint")
@key_dir_option
@db_option
@report_errors
def keys_generate(settings: Settings, endpoint: str, key_dir: Path | None) -> None:
    """Make the key pair of ENDPOINT (e.g. catalogue, se:CERN-DISK); print its public key."""
    signer = keys_store.generate(key_dir_of(settings, key_dir), endpoint)
    click.echo(signer.public)


@keys.command("trust")
@click.argument("endpoint")
@click.argument("public_key")
@db_option
@report_errors
def keys_trust(settings: Settings, endpoint: str, public_key: str) -> None:
    """Accept messages signed by PUBLIC_KEY (base64) as sender ENDPOINT."""
    with _engine(settings) as engine:
        added = keys_store.trust(engine, endpoint, public_key)
    click.echo(f"trusted {endpoint}" if added else f"{endpoint} was trusted already")


@keys.command("list")
@key_dir_option
@db_option
@report_errors
def keys_list(settings: Settings, key_dir: Path | None) -> None:
    """This machine's endpoint keys and the trusted senders."""
    directory = key_dir_of(settings, key_dir)
    for path in sorted(directory.glob("*.pem")) if directory.is_dir() else []:
        endpoint = path.stem.replace("_", ":", 1) if path.stem.startswith("se_") else path.stem
        signer = keys_store.load_signer(directory, endpoint)
        click.echo(f"own      {endpoint:<24} {signer.public}")
    with _engine(settings) as engine:
        for endpoint, key in keys_store.trusted(engine):
            click.echo(f"trusted  {endpoint:<24} {key}")


@syncat.command("send")
@click.argument("kind", metavar="TYPE", type=click.Choice([str(t) for t in MessageType]))
@click.argument("lfns", nargs=-1)
@click.option("--se", "se", required=True, help="The storage element the message is about.")
@click.option("--requester", default="root", show_default=True, help="On whose behalf.")
@click.option("--endpoint", default=None, help="Sign as (default: se:<SE> or catalogue).")
@click.option("--adler32", default=None, help="file_corrupted: the checksum found.")
@click.option("--mode", default=None, help="permissions_changed: octal mode, e.g. 0444.")
@click.option("--source", default=None, help="replica_wanted: the SE to copy from.")
@click.option("--principal", default=None, help="acl_changed: user, group:NAME or system:anyuser.")
@click.option("--rights", default=None, help="acl_changed: the principal's rights now, e.g. r--.")
@click.option("--used", type=int, default=None, help="space_changed: bytes used.")
@click.option("--capacity", type=int, default=None, help="space_changed: bytes in all.")
@key_dir_option
@prefix_option
@db_option
@report_errors
def send_command(settings: Settings, kind: str, lfns: tuple[str, ...], **options: Any) -> None:
    """Send one signed message about the files LFN... by hand (their path on the SE is
    their LFN)."""
    message_type = MessageType(kind)
    se = options["se"]
    endpoint = options["endpoint"] or (f"se:{se}" if message_type.upstream else "catalogue")
    item: dict[str, Any] = {}
    for name in ("adler32", "source", "principal", "rights"):
        if options[name] is not None:
            item[name] = options[name]
    if options["mode"] is not None:
        try:
            item["mode"] = int(options["mode"], 8)
        except ValueError:
            raise click.BadParameter(
                f"{options['mode']!r} is not octal", param_hint="--mode"
            ) from None
    extra: dict[str, Any] = {}
    if message_type is MessageType.SPACE_CHANGED:
        if options["used"] is None:
            raise click.UsageError("space_changed needs --used")
        extra = {"used": options["used"], "capacity": options["capacity"]}
    elif not lfns:
        raise click.UsageError(f"{kind} needs at least one LFN")
    envelope = Envelope(
        type=message_type,
        sender=endpoint,
        requester=options["requester"],
        se=se,
        files=tuple({"path": lfn, "lfn": lfn, **item} for lfn in lfns),
        extra=extra,
    )
    parse_envelope(envelope.to_json())  # what a receiver would refuse is refused here
    signer = keys_store.load_signer(key_dir_of(settings, options["key_dir"]), endpoint)
    with _engine(settings) as engine:
        transport = open_transport(settings.syncat_broker, engine)
        try:
            queue = send(transport, Routing(options["prefix"]), signer, envelope)
        finally:
            transport.close()
    click.echo(f"sent {kind} {envelope.id} ({len(lfns)} files) to {queue}")


@syncat.command("status")
@click.option("--endpoint", default=None, help="Figures of one receiving endpoint.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@db_option
@report_errors
def status_command(settings: Settings, endpoint: str | None, fmt: str) -> None:
    """Backlog (outbox rows not yet confirmed), sent, applied and refused (by reason)."""
    with _engine(settings) as engine:
        figures = counts(engine, endpoint)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(figures), indent=2))
        return
    oldest = figures.oldest_unsent_s
    waited = "" if oldest is None else f" (the oldest waiting {oldest:.0f} s)"
    click.echo(f"backlog      {figures.backlog} files{waited}")
    click.echo(f"sent         {figures.sent} files")
    click.echo(f"applied      {figures.applied} messages ({figures.applied_files} files changed)")
    refused = ", ".join(f"{n} {reason}" for reason, n in sorted(figures.refused.items()))
    click.echo(
        f"refused      {sum(figures.refused.values())} messages"
        + (f" ({refused})" if refused else "")
    )
    click.echo(f"quarantined  {figures.quarantined} dark files")
    click.echo(f"suspicious   {figures.suspicious} files")


@syncat.command("serve")
@click.option("--relay/--no-relay", default=True, help="Publish the outbox.")
@click.option(
    "--catalogue/--no-catalogue", "catalogue", default=True, help="Consume upstream messages."
)
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    default=("catalogue",),
    show_default=True,
    help="Consumer plug-in(s) of the catalogue endpoint (entry-point names).",
)
@click.option("--se", "ses", multiple=True, help="Serve this SE: its consumer and watcher.")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Consumers sharing the catalogue's queue.",
)
@click.option(
    "--acl-group",
    default=None,
    metavar="PRINCIPAL",
    help="The catalogue group (group:NAME) whose ACL rights become the SE files' group "
    "mode bits (docs/syncat.md).",
)
@click.option("--once", is_flag=True, help="One round of each loop, then exit.")
@key_dir_option
@prefix_option
@db_option
@report_errors
def serve_command(settings: Settings, **options: Any) -> None:
    """Run the relay, the consumers and the SE watchers until interrupted."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    with _engine(settings) as engine:
        factory: Callable[[], Transport] = lambda: open_transport(settings.syncat_broker, engine)  # noqa: E731
        service = build_service(
            engine,
            factory,
            Routing(options["prefix"]),
            key_dir_of(settings, options["key_dir"]),
            backend=settings.backend,
            relay=options["relay"],
            catalogue_plugins=options["plugins"] if options["catalogue"] else (),
            ses=options["ses"],
            workers=options["workers"],
            options={"acl_group": options["acl_group"]} if options["acl_group"] else None,
            retention=settings.syncat_outbox_retention_s,
        )
        if options["once"]:
            for loop in service.loops:
                loop.step()
                loop.close()
            return
        signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
        try:
            service.run_until_stopped()
        except KeyboardInterrupt:
            service.shutdown()
