"""The registry of storage elements (table ``storage_elements``) and opening one by URL.

A storage element is data: a name, a URL naming its back-end and place, a role, the site it
belongs to, a capacity and a free-space watermark. ``StorageRegistry(engine)`` adds, reads
and lists them; ``open_element(record)`` (or ``StorageRegistry.open(name)``) gives the
``StorageElement`` its URL names:

- ``file:///absolute/path`` — ``PosixElement``, a directory;
- ``root://host:port//path`` — ``XRootDElement``, a directory on an XRootD server;
- ``tape:///absolute/path?drives=N&...`` — ``TapeElement``, the emulated tape library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bookkeeping.engines import write_transaction
from bookkeeping.storage.element import ROLES, Role, StorageElement
from bookkeeping.storage.errors import (
    InvalidStorageElement,
    StorageElementExists,
    StorageUnavailable,
    UnknownStorageElement,
)
from bookkeeping.storage.tables import SE_NAME_LENGTH, SE_URL_LENGTH, storage_elements

SCHEMES = ("file", "root", "tape")
DISK_ROLES: tuple[Role, ...] = ("daq", "offline", "mc")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class StorageElementRecord:
    """One registered storage element."""

    name: str
    url: str
    role: Role
    site: str = ""
    capacity: int | None = None  # bytes; None: what the file system or server has
    watermark: int = 0  # free bytes a put must leave

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme


def check_record(record: StorageElementRecord) -> None:
    """``InvalidStorageElement`` naming the first malformed field."""
    name = record.name
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > SE_NAME_LENGTH:
        raise InvalidStorageElement(
            f"{name!r} is not a storage element name (letters, digits, _ . -; "
            f"at most {SE_NAME_LENGTH})"
        )
    if record.role not in ROLES:
        raise InvalidStorageElement(
            f"storage element {name}: role {record.role!r} is not one of {', '.join(ROLES)}"
        )
    if not isinstance(record.site, str) or (record.site and not _NAME.match(record.site)):
        raise InvalidStorageElement(f"storage element {name}: {record.site!r} is not a site")
    for field, value in (("capacity", record.capacity), ("watermark", record.watermark)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidStorageElement(f"storage element {name}: {field} must be bytes")
        if value is not None and value < 0:
            raise InvalidStorageElement(f"storage element {name}: {field} {value} is negative")
    if len(record.url) > SE_URL_LENGTH:
        raise InvalidStorageElement(
            f"storage element {name}: URL longer than {SE_URL_LENGTH} characters"
        )
    parse_url(record.name, record.url)
    if (record.role == "tape") != (record.scheme == "tape"):
        raise InvalidStorageElement(
            f"storage element {name}: role tape goes with a tape:// URL and only with one"
        )


def parse_url(name: str, url: str) -> tuple[str, str, str]:
    """(scheme, host:port or "", absolute path) of an element's URL, checked."""
    if not isinstance(url, str) or "\x00" in url:
        raise InvalidStorageElement(f"storage element {name}: {url!r} is not a URL")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise InvalidStorageElement(
            f"storage element {name}: URL {url!r} does not start with "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    path = unquote(parts.path)
    if parts.scheme == "root":
        if not parts.hostname or not parts.port:
            raise InvalidStorageElement(
                f"storage element {name}: {url!r} lacks a host and port (root://host:port//path)"
            )
        if not path.startswith("//"):
            raise InvalidStorageElement(
                f"storage element {name}: {url!r} needs an absolute path after the port "
                "(root://host:port//path)"
            )
        path = path[1:]
        location = f"{parts.hostname}:{parts.port}"
    else:
        if parts.netloc:
            raise InvalidStorageElement(
                f"storage element {name}: {url!r} names a host; use {parts.scheme}:///path"
            )
        location = ""
    if not path.startswith("/") or any(part == ".." for part in path.split("/")):
        raise InvalidStorageElement(f"storage element {name}: {url!r} needs an absolute path")
    if parts.query and parts.scheme != "tape":
        raise InvalidStorageElement(f"storage element {name}: {url!r} takes no parameters")
    return parts.scheme, location, path


def open_element(record: StorageElementRecord) -> StorageElement:
    """The ``StorageElement`` of a registered (or not yet registered) element."""
    check_record(record)
    scheme, location, path = parse_url(record.name, record.url)
    try:
        return _open(record, scheme, location, path)
    except ImportError as exc:  # a back-end whose client library is not installed
        raise StorageUnavailable(
            f"storage element {record.name}: no {scheme}:// back-end here ({exc})", se=record.name
        ) from None


def _open(record: StorageElementRecord, scheme: str, location: str, path: str) -> StorageElement:
    if scheme == "file":
        from bookkeeping.storage.posix import PosixElement

        return PosixElement(
            record.name,
            record.url,
            Path(path),
            capacity=record.capacity,
            watermark=record.watermark,
        )
    if scheme == "root":
        from bookkeeping.storage.xrootd import XRootDElement

        return XRootDElement(
            record.name,
            record.url,
            location,
            path,
            capacity=record.capacity,
            watermark=record.watermark,
        )
    from bookkeeping.storage.tape import TapeElement

    return TapeElement.from_url(record.name, record.url)


def _record(row: sa.Row) -> StorageElementRecord:
    return StorageElementRecord(
        name=row.name,
        url=row.url,
        role=row.role,
        site=row.site,
        capacity=None if row.capacity is None else int(row.capacity),
        watermark=int(row.watermark),
    )


class StorageRegistry:
    """The storage elements registered in a bookkeeping database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        name: str,
        url: str,
        role: Role | str,
        *,
        site: str = "",
        capacity: int | None = None,
        watermark: int = 0,
        exist_ok: bool = False,
    ) -> StorageElementRecord:
        """Register an element. One registered already under the same name is
        ``StorageElementExists`` unless ``exist_ok`` and it is the very same element."""
        record = StorageElementRecord(name, url, role, site, capacity, watermark)  # type: ignore[arg-type]
        check_record(record)
        row = {
            "name": name,
            "url": url,
            "role": role,
            "site": site,
            "capacity": capacity,
            "watermark": watermark,
        }
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(storage_elements.insert(), row)
        except IntegrityError:
            existing = self.find(name)
            if exist_ok and existing == record:
                return existing
            raise StorageElementExists(
                f"storage element {name} is registered already"
                + (f" as {existing.url} ({existing.role})" if existing else ""),
                se=name,
            ) from None
        return record

    def find(self, name: str) -> StorageElementRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(storage_elements).where(storage_elements.c.name == name)
            ).first()
        return None if row is None else _record(row)

    def get(self, name: str) -> StorageElementRecord:
        """``UnknownStorageElement`` naming it when none is registered so."""
        record = self.find(name)
        if record is None:
            raise UnknownStorageElement(f"no storage element {name!r} is registered", se=name)
        return record

    def list(
        self, *, role: str | None = None, site: str | None = None
    ) -> list[StorageElementRecord]:
        """The registered elements, ordered by name (only a role's or a site's if given)."""
        query = sa.select(storage_elements).order_by(storage_elements.c.name)
        if role is not None:
            query = query.where(storage_elements.c.role == role)
        if site is not None:
            query = query.where(storage_elements.c.site == site)
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query)]

    def records(self, names: Sequence[str]) -> dict[str, StorageElementRecord]:
        """The records of those of ``names`` that are registered, in one statement."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        query = sa.select(storage_elements).where(storage_elements.c.name.in_(wanted))
        with self.engine.connect() as connection:
            return {row.name: _record(row) for row in connection.execute(query)}

    def remove(self, name: str) -> None:
        """Forget an element (its files stay where they are)."""
        with write_transaction(self.engine) as connection:
            gone = connection.execute(
                storage_elements.delete().where(storage_elements.c.name == name)
            ).rowcount
        if not gone:
            raise UnknownStorageElement(f"no storage element {name!r} is registered", se=name)

    def open(self, name_or_record: str | StorageElementRecord) -> StorageElement:
        """The ``StorageElement`` of a registered element (by name) or of a record."""
        if isinstance(name_or_record, StorageElementRecord):
            return open_element(name_or_record)
        return open_element(self.get(name_or_record))
