"""``bk se add|list|du|ls`` and ``bk tape status``: the registered storage elements."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bookkeeping.backends import BACKENDS, open_bookkeeping, open_writers
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings
from bookkeeping.errors import SchemaNotInitialised
from bookkeeping.storage.element import ROLES
from bookkeeping.storage.errors import InvalidStorageElement
from bookkeeping.storage.registry import StorageRegistry, parse_url
from bookkeeping.storage.tables import storage_elements
from bookkeeping.storage.tape import TapeElement
from bookkeeping.storage.transfer import get_file, put_file
from bookkeeping.units import human_bytes

FORMATS = click.Choice(["text", "json"])


@contextmanager
def open_registry(settings: Settings) -> Iterator[StorageRegistry]:
    engine = engine_for(settings)
    try:
        if not sa.inspect(engine).has_table(storage_elements.name):
            raise SchemaNotInitialised(
                "the database has no storage_elements table; run bk init (or bk db upgrade)"
            )
        yield StorageRegistry(engine)
    finally:
        engine.dispose()


def _bytes(value: int | None) -> str:
    return "-" if value is None else human_bytes(value)


@click.group("se")
def se_group() -> None:
    """Storage elements: where files' bytes are (posix folders, XRootD servers, tape)."""


@se_group.command("add")
@db_option
@click.argument("name")
@click.argument("url")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the element holds.")
@click.option("--site", default="", help="The site the element belongs to, e.g. CERN.")
@click.option("--capacity", type=click.IntRange(min=0), default=None, help="Bytes it may hold.")
@click.option(
    "--watermark", type=click.IntRange(min=0), default=0, help="Free bytes a put must leave."
)
@report_errors
def se_add(
    settings: Settings,
    name: str,
    url: str,
    role: str,
    site: str,
    capacity: int | None,
    watermark: int,
) -> None:
    """Register the storage element NAME at URL (file:///path, root://host:port//path,
    tape:///path?drives=N&...)."""
    with open_registry(settings) as registry:
        record = registry.add(name, url, role, site=site, capacity=capacity, watermark=watermark)
        if record.scheme == "file":
            Path(parse_url(name, url)[2]).mkdir(parents=True, exist_ok=True)
        registry.open(record).close()  # a tape library is laid out now
    click.echo(f"storage element {name} added ({role}, {url})")


@se_group.command("list")
@db_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@report_errors
def se_list(settings: Settings, fmt: str) -> None:
    """The registered storage elements."""
    with open_registry(settings) as registry:
        records = registry.list()
    if fmt == "json":
        click.echo(json.dumps([vars(record) for record in records], indent=2))
        return
    table = Table("name", "role", "site", "url", "capacity", "watermark")
    for r in records:
        table.add_row(r.name, r.role, r.site, r.url, _bytes(r.capacity), _bytes(r.watermark))
    Console(width=200).print(table)


@se_group.command("du")
@db_option
@click.argument("name")
@report_errors
def se_du(settings: Settings, name: str) -> None:
    """Bytes held by the storage element NAME (and its capacity)."""
    with open_registry(settings) as registry:
        element = registry.open(name)
        try:
            usage = element.usage()
        finally:
            element.close()
    capacity = "unbounded" if usage.capacity is None else f"{usage.capacity} bytes"
    click.echo(f"{name}: {usage.used} bytes used ({_bytes(usage.used)}), capacity {capacity}")


@se_group.command("ls")
@db_option
@click.argument("name")
@click.argument("path", default="/")
@click.option("--long", "-l", "long_format", is_flag=True, help="With size and adler32.")
@report_errors
def se_ls(settings: Settings, name: str, path: str, long_format: bool) -> None:
    """The files on the storage element NAME below PATH, one path a line."""
    with open_registry(settings) as registry:
        element = registry.open(name)
        try:
            for item in element.list(path):
                if long_format:
                    click.echo(f"{item.size}\t{item.adler32 or '-'}\t{item.path}")
                else:
                    click.echo(item.path)
        finally:
            element.close()


@click.group("tape")
def tape_group() -> None:
    """The emulated tape libraries."""


@tape_group.command("status")
@db_option
@click.argument("names", nargs=-1)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@report_errors
def tape_status(settings: Settings, names: tuple[str, ...], fmt: str) -> None:
    """Drives and cartridges of the tape elements NAMES... (default: every one) with their
    counters: mounts, seeks, bytes read and written."""
    with open_registry(settings) as registry:
        records = [registry.get(n) for n in names] if names else registry.list(role="tape")
        statuses = {}
        for record in records:
            element = registry.open(record)
            try:
                if not isinstance(element, TapeElement):
                    raise InvalidStorageElement(f"storage element {record.name} is not a tape")
                statuses[record.name] = element.status()
            finally:
                element.close()
    if fmt == "json":
        click.echo(json.dumps({n: s.as_dict() for n, s in statuses.items()}, indent=2))
        return
    console = Console(width=200)
    for name, status in statuses.items():
        drives = ", ".join(
            f"{d.id}:{d.cartridge or '-'}{' busy' if d.busy else ''}" for d in status.drives
        )
        console.print(
            f"[bold]{name}[/bold]: {status.mounts} mounts, {status.seeks} seeks, "
            f"{status.bytes_read} bytes read, {status.bytes_written} written; drives {drives}"
        )
        table = Table(
            "cartridge", "pool", "files", "used", "capacity", "mounts", "seeks", "read", "written"
        )
        for c in status.cartridges:
            table.add_row(
                c.id,
                c.pool,
                str(c.files),
                _bytes(c.used),
                _bytes(c.capacity),
                str(c.mounts),
                str(c.seeks),
                _bytes(c.bytes_read),
                _bytes(c.bytes_written),
            )
        console.print(table)


def _backends(settings: Settings, backend: str | None) -> tuple[str, str]:
    """(implementation to read, implementation(s) to write: a name or both)."""
    choice = backend or settings.backend
    return ("warehouse" if choice == "both" else choice), choice


@click.command("put")
@db_option
@click.argument("local", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("lfn")
@click.option("--se", "se", required=True, help="The storage element to put the file on.")
@click.option("--path", default=None, help="Its path there (default: the LFN).")
@click.option("--area", default=None, help="A recall copy's area (default: the SE's name).")
@click.option(
    "--backend",
    type=click.Choice([*BACKENDS, "both"]),
    default=None,
    help="Implementation(s) recording the copy (default: $BK_BACKEND, else catalogue).",
)
@report_errors
def put_command(
    settings: Settings,
    local: Path,
    lfn: str,
    se: str,
    path: str | None,
    area: str | None,
    backend: str | None,
) -> None:
    """Copy LOCAL, the bytes of the recorded file LFN, to a storage element and record the
    copy once the bytes are durable and match the recorded size and adler32."""
    reading, writing = _backends(settings, backend)
    with open_registry(settings) as registry:
        bookkeeping = open_bookkeeping(registry.engine, reading)
        writers = list(open_writers(registry.engine, writing).values())
        done = put_file(bookkeeping, writers, registry, local, lfn, se, path=path, area=area)
    click.echo(f"{lfn}: {done.size} bytes, adler32 {done.adler32}, on {done.se} at {done.path}")


@click.command("get")
@db_option
@click.argument("lfn")
@click.argument("destination", required=False, type=click.Path(path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Implementation to read the copies from (default: $BK_BACKEND, else catalogue).",
)
@report_errors
def get_command(
    settings: Settings, lfn: str, destination: Path | None, backend: str | None
) -> None:
    """Copy the best replica of LFN (disk, then recalled, then tape) to DESTINATION (a file
    or a folder; default: the LFN's name here), verifying its size and adler32."""
    reading, _ = _backends(settings, backend)
    target = destination or Path(lfn.rsplit("/", 1)[-1] or "file")
    with open_registry(settings) as registry:
        bookkeeping = open_bookkeeping(registry.engine, reading)
        done = get_file(bookkeeping, registry, lfn, target)
    click.echo(f"{lfn}: {done.size} bytes, adler32 {done.adler32}, from {done.se} ({done.path})")
