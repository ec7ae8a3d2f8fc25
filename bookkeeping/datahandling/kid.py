"""KID-style access (seed 004's "KLOE Integrated Dataflow"): open a URI, get local paths of
files that stay pinned until the context closes::

    from bookkeeping.datahandling import kid

    with kid.open("dbdatarec:stream_code='bgg' and version=16 and run=22653") as files:
        for path in files: ...

The core only parses ``<scheme>:<rest>`` and hands ``rest`` to the scheme's plug-in, found
in the entry-point group ``bookkeeping.kid`` (or added with ``register_scheme``). Built in:

- ``file:<path>`` — a local file (``file:///abs/path`` too), nothing to recall;
- ``lfn:<LFN>[,<LFN>...]`` — recalled through the recall daemon, pinned, released on close;
- ``db<filetype>:<where>`` — the files of that type selected by the ``bk ls`` where-clause
  language (``bookkeeping/listing.py``), then recalled as ``lfn:``.

Options (keyword arguments of ``open``): ``recall_url`` (default ``$BK_RECALL_URL``),
``areas`` (default: every recall area the daemon knows), ``owner`` (default: none sent,
the daemon makes the client whose ``$BK_RECALL_TOKEN`` is used the owner; a name only for
a client the daemon lets act on behalf of others), ``lease`` (seconds), ``timeout``
(seconds to wait for the recall), ``engine`` and ``backend`` for ``db`` schemes
(default: the settings, as ``bk ls``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import Engine

from bookkeeping.datahandling.client import RecallClient, local_path
from bookkeeping.datahandling.errors import KidError

ENTRY_POINT_GROUP = "bookkeeping.kid"


@dataclass(frozen=True)
class KidOptions:
    recall_url: str | None = None
    areas: Sequence[str] | None = None
    owner: str | None = None
    lease: int = 3600
    timeout: float = 3600.0
    engine: Engine | None = None
    backend: str | None = None


class Scheme(Protocol):
    """A KID plug-in: ``open(rest, scheme, options)`` is a context manager yielding local
    paths, valid until it exits (``scheme`` is the name used, e.g. ``dbdatarec``)."""

    def __call__(
        self, rest: str, scheme: str, options: KidOptions
    ) -> AbstractContextManager[list[Path]]: ...


_registered: dict[str, Scheme] = {}


def register_scheme(name: str, plugin: Scheme) -> None:
    """Add a scheme in this process (installed packages use the entry-point group)."""
    _registered[name.lower()] = plugin


def find_scheme(name: str) -> Scheme:
    """The plug-in of ``name``; a ``db<filetype>`` name falls back to the ``db`` plug-in."""
    name = name.lower()
    if name in _registered:
        return _registered[name]
    found = {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for candidate in (name, "db" if name.startswith("db") and len(name) > 2 else None):
        if candidate in _registered:
            return _registered[candidate]
        if candidate in found:
            plugin: Scheme = found[candidate].load()
            return plugin
    known = sorted(set(found) | set(_registered))
    raise KidError(f"no KID scheme {name!r}; known: {', '.join(known)} (db<filetype> too)")


@contextmanager
def open(uri: str, **options: object) -> Iterator[list[Path]]:  # noqa: A001 - KID's verb
    """Local paths of the files ``uri`` names, pinned until the block exits."""
    if not isinstance(uri, str) or ":" not in uri:
        raise KidError(f"not a KID URI (scheme:rest): {uri!r}")
    scheme, _, rest = uri.partition(":")
    if not scheme or not rest:
        raise KidError(f"not a KID URI (scheme:rest): {uri!r}")
    plugin = find_scheme(scheme)
    with plugin(rest, scheme.lower(), KidOptions(**options)) as paths:  # type: ignore[arg-type]
        yield paths


# --- the built-in schemes -----------------------------------------------------------------


@contextmanager
def file_scheme(rest: str, scheme: str, options: KidOptions) -> Iterator[list[Path]]:
    parts = urlsplit(f"file:{rest}")
    path = Path(unquote(parts.path))
    try:
        found = path.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL: no such file either
        reason = getattr(exc, "strerror", None) or exc
        raise KidError(f"file:{_short(rest)}: not a usable local path ({reason})") from None
    if not found:
        raise KidError(f"file:{_short(rest)}: no such local file")
    yield [path]


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextmanager
def lfn_scheme(rest: str, scheme: str, options: KidOptions) -> Iterator[list[Path]]:
    lfns = [lfn.strip() for lfn in rest.split(",") if lfn.strip()]
    with recalled(lfns, options) as paths:
        yield paths


@contextmanager
def db_scheme(rest: str, scheme: str, options: KidOptions) -> Iterator[list[Path]]:
    lfns = _select(scheme[2:], rest, options)
    with recalled(lfns, options) as paths:
        yield paths


def _select(file_type: str, where: str, options: KidOptions) -> list[str]:
    from bookkeeping.backends import open_bookkeeping
    from bookkeeping.config import load_settings
    from bookkeeping.engines import create_engine
    from bookkeeping.interface import Level, ListingQuery
    from bookkeeping.listing import parse_where

    condition = parse_where(where)
    settings = load_settings()
    engine = options.engine or create_engine(settings.resolved_database_url)
    try:
        bookkeeping = open_bookkeeping(engine, options.backend or settings.backend)
        types = [str(v.value) for v in bookkeeping.level_values(Level.FILE_TYPE)]
        named = [t for t in types if t.casefold() == file_type.casefold()]
        if not named:
            raise KidError(f"db{file_type}: no file type {file_type!r} in the bookkeeping")
        query = ListingQuery(named[0], condition)
        return [line.lfn for line in bookkeeping.iter_listing(query)]
    finally:
        if options.engine is None:
            engine.dispose()


@contextmanager
def recalled(lfns: Sequence[str], options: KidOptions) -> Iterator[list[Path]]:
    """Recall ``lfns``, yield their local paths, release their pins on exit."""
    if not lfns:
        yield []
        return
    client = RecallClient(options.recall_url)
    areas = list(options.areas or [area["name"] for area in client.areas()])
    asked = client.submit(lfns, areas, owner=options.owner, lease=options.lease)
    try:
        status = asked if asked["done"] else client.wait(asked["request"], timeout=options.timeout)
        failed = [
            f"{f['lfn']} ({f.get('error')})" for f in status["files"] if f["state"] == "failed"
        ]
        if failed or asked.get("problems"):
            raise KidError(
                "not recalled: " + "; ".join(builtins.list(asked.get("problems", [])) + failed)
            )
        by_lfn = {f["lfn"]: local_path(f.get("url", "")) for f in status["files"]}
        remote = [lfn for lfn, path in by_lfn.items() if path is None]
        if remote:
            raise KidError(f"recalled to areas that are not local folders: {', '.join(remote)}")
        yield [by_lfn[lfn] for lfn in dict.fromkeys(lfns)]  # type: ignore[misc]
    finally:
        client.release(asked["request"])


# The names the entry points point at.
FileScheme: Callable[..., AbstractContextManager[list[Path]]] = file_scheme
LfnScheme: Callable[..., AbstractContextManager[list[Path]]] = lfn_scheme
DatabaseScheme: Callable[..., AbstractContextManager[list[Path]]] = db_scheme
