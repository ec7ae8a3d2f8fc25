"""Client-side federation: one client over several AMGA servers (Belle II, seed 000).

A mount table maps a path prefix to the servers holding that part of the namespace; the
first server of a mount owns it (writes go there), all of them are read. Reads fan out and
merge; every server is reached with the caller's own credentials, so what a non-root user
writes is owned by that user on the owning server.

Merging is concatenation (with duplicate names of a listing removed); aggregates such as
``count(...)`` therefore come back once per server and are not combined.

The federated working directory (``cd``) is the one relative paths *and* relative query
items resolve against: before a query whose items or condition name an attribute relative to
it (``run``, ``.:run``, ``sub:run``), each server asked is moved to that directory, so it
resolves them exactly as a single server would. With ``cert``/``key`` every server is reached
over TLS with that client certificate: each maps its subject DN to its own user.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bookkeeping.amga_adapter.client.client import CommandException, MDClient, split_update_clause
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.query import (
    QueryError,
    ast,
    parse_condition,
    parse_expression,
    parse_select_items,
)

T = TypeVar("T")
Connect = Callable[[str, str, str], MDClient]


@dataclass(frozen=True)
class Mount:
    prefix: str
    urls: tuple[str, ...]

    def covers(self, path: str) -> bool:
        return self.prefix == "/" or path == self.prefix or path.startswith(self.prefix + "/")


class FederatedClient:
    """The read/write subset of :class:`MDClient` over a mount table."""

    def __init__(
        self,
        mounts: Mapping[str, str | Sequence[str]],
        login: str = "anonymous",
        password: str = "",
        *,
        connect: Connect | None = None,
        cert: str | None = None,
        key: str | None = None,
        ca: str | None = None,
    ) -> None:
        """``cert``/``key``: log in to every server with this client certificate over TLS
        (``ca`` verifies the servers); ``connect`` replaces how a server is reached."""
        if not mounts:
            raise ValueError("a federation needs at least one mount")
        self.mounts = sorted(
            (
                Mount(_normalise(prefix), (urls,) if isinstance(urls, str) else tuple(urls))
                for prefix, urls in mounts.items()
            ),
            key=lambda mount: len(mount.prefix),
            reverse=True,
        )
        self.login, self.password = login, password
        self._connect = connect or _identity(cert, key, ca)
        self._clients: dict[str, MDClient] = {}
        self._cwd = "/"
        self._lock = threading.RLock()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- routing -----------------------------------------------------------------------------

    def client(self, url: str) -> MDClient:
        with self._lock:
            if url not in self._clients:
                self._clients[url] = self._connect(url, self.login, self.password)
            return self._clients[url]

    def owner(self, path: str) -> MDClient:
        """The server that owns ``path`` (first server of the deepest covering mount)."""
        return self.client(self._mount(path).urls[0])

    def readers(self, path: str) -> list[MDClient]:
        """Every server holding part of ``path``: its mount's servers, and for a directory
        above other mounts, theirs too."""
        absolute = self.absolute(path)
        urls = list(self._mount(absolute).urls)
        for mount in self.mounts:
            if absolute == "/" or mount.prefix.startswith(absolute.rstrip("/") + "/"):
                urls += [url for url in mount.urls if url not in urls]
        return [self.client(url) for url in urls]

    def _mount(self, path: str) -> Mount:
        absolute = self.absolute(path)
        for mount in self.mounts:
            if mount.covers(absolute):
                return mount
        raise LookupError(f"no mount covers {absolute!r}; add one for it or for '/'")

    def absolute(self, path: str) -> str:
        return _normalise(posixpath.join(self._cwd, path))

    def _fan_out(
        self, path: str, read: Callable[[MDClient], Iterable[T]], *, at_cwd: bool = False
    ) -> list[T]:
        merged: list[T] = []
        for reader in self.readers(path):
            if at_cwd:
                self._move_to_cwd(reader)
            merged.extend(read(reader))
        return merged

    def _move_to_cwd(self, client: MDClient) -> None:
        """Make ``client``'s server resolve relative query items as we do."""
        if client.cwd != self._cwd:
            client.cd(self._cwd)

    # -- navigation --------------------------------------------------------------------------

    def cd(self, dir: str) -> None:
        """Change the federated working directory (checked on the server that owns it)."""
        target = self.absolute(dir)
        self.owner(target).cd(target)
        self._cwd = target

    def pwd(self) -> str:
        return self._cwd

    # -- reads -------------------------------------------------------------------------------

    def listEntries(self, pattern: str) -> list[tuple[str, str]]:
        seen: set[str] = set()
        merged = []
        for name, type_ in self._fan_out(
            _pattern_dir(self.absolute(pattern)),
            lambda c: c.listEntries(self.absolute(pattern), sync=True) or [],
        ):
            if name not in seen:
                seen.add(name)
                merged.append((name, type_))
        return merged

    def listAttr(self, path: str) -> tuple[list[str], list[str]]:
        return self.owner(path).listAttr(self.absolute(path))

    def find(self, pattern: str, query: str) -> list[str]:
        target = self.absolute(pattern)
        return self._fan_out(
            _pattern_dir(target),
            lambda c: c.find(target, query, sync=True) or [],
            at_cwd=_relative(_condition_refs(query), bare_is_cwd=False),
        )

    def getattr(self, path: str, attributes: Sequence[str]) -> list[tuple[str, list[str | None]]]:
        target = self.absolute(path)
        return self._fan_out(
            _pattern_dir(target), lambda c: c.getattr(target, attributes, sync=True) or []
        )

    def selectAttr(self, attributes: Sequence[str], query: str) -> list[list[str | None]]:
        """Rows from every server holding the first item's directory (relative items and
        conditions resolve against the federated working directory)."""
        items = _item_refs(attributes)
        anchor = self._cwd
        if items:  # bare items belong to the working directory
            anchor = paths.normalise(items[0].directory or ".", self._cwd)
        refs = [*items, *_condition_refs(query)]
        return self._fan_out(
            anchor,
            lambda c: c.selectAttr(attributes, query, sync=True) or [],
            at_cwd=_relative(refs, bare_is_cwd=True),
        )

    def selectQuery(self, attributes: Sequence[str], condition: str = "") -> list[dict]:
        rows = self.selectAttr(attributes, condition)
        return [dict(zip(attributes, row, strict=True)) for row in rows]

    # -- writes (to the owner) ---------------------------------------------------------------

    def createDir(self, dir: str) -> None:
        self.owner(dir).createDir(self.absolute(dir))

    def removeDir(self, dir: str) -> None:
        self.owner(dir).removeDir(self.absolute(dir))

    def addAttr(self, dir: str, name: str, type_: str) -> None:
        self.owner(dir).addAttr(self.absolute(dir), name, type_)

    def removeAttr(self, dir: str, name: str) -> None:
        self.owner(dir).removeAttr(self.absolute(dir), name)

    def clearAttr(self, dir: str, name: str) -> None:
        self.owner(dir).clearAttr(self.absolute(dir), name)

    def addEntry(self, path: str, keys: Sequence[str], values: Sequence[object]) -> None:
        self.owner(path).addEntry(self.absolute(path), keys, values)

    def addEntries(self, entries: Sequence[str]) -> None:
        by_owner: dict[int, tuple[MDClient, list[str]]] = {}
        for entry in entries:
            owner = self.owner(entry)
            by_owner.setdefault(id(owner), (owner, []))[1].append(self.absolute(entry))
        for owner, targets in by_owner.values():
            owner.addEntries(targets)

    def setAttr(self, path: str, keys: Sequence[str], values: Sequence[object]) -> None:
        self.owner(path).setAttr(self.absolute(path), keys, values)

    def rm(self, path: str) -> None:
        self.owner(path).rm(self.absolute(path))

    def updateAttr(self, pattern: str, updateExpr: Sequence[str], condition: str) -> None:
        owner = self.owner(pattern)
        refs = _condition_refs(condition) + _update_refs(updateExpr)
        if _relative(refs, bare_is_cwd=False):
            self._move_to_cwd(owner)
        owner.updateAttr(self.absolute(pattern), updateExpr, condition)


def _normalise(path: str) -> str:
    normal = posixpath.normpath("/" + path.lstrip("/"))
    return "/" if normal in {"/", "//"} else normal


def _pattern_dir(path: str) -> str:
    """The directory a pattern lives in (``/a/b/*`` -> ``/a/b``)."""
    return posixpath.dirname(path) if any(c in path for c in "*?[") else path


def _identity(cert: str | None, key: str | None, ca: str | None) -> Connect:
    """Connect to a server as the caller: login and password, or the client certificate."""

    def connect(url: str, login: str, password: str) -> MDClient:
        client = MDClient.from_url(url)
        if login != "anonymous" or password:
            client.login, client.password = login, password
        if cert is not None:
            client.requireSSL(key=key, cert=cert, ca=ca)
        return client

    return connect


# -- what a query refers to, parsed as the server will (nothing for text it will refuse) --


def _item_refs(items: Sequence[str]) -> list[ast.AttributeRef]:
    try:
        nodes = parse_select_items(list(items))
    except QueryError:
        return []  # the server reports the error
    return [ref for node in nodes for ref in ast.attribute_refs(node)]


def _condition_refs(condition: str) -> list[ast.AttributeRef]:
    try:
        return list(ast.attribute_refs(parse_condition(condition)))
    except QueryError:
        return []


def _update_refs(clauses: Sequence[str]) -> list[ast.AttributeRef]:
    refs: list[ast.AttributeRef] = []
    for clause in clauses:
        try:
            refs += ast.attribute_refs(parse_expression(split_update_clause(clause)[1]))
        except (QueryError, CommandException):
            continue  # the client or the server reports the error
    return refs


def _relative(refs: Iterable[ast.AttributeRef], *, bare_is_cwd: bool) -> bool:
    """Whether any reference resolves against the working directory: ``dir:x`` and
    ``.:x``; bare ``x`` too where it belongs to the working directory (selectattr)."""
    return any(
        (ref.directory is None and bare_is_cwd)
        or (ref.directory is not None and not ref.directory.startswith("/"))
        for ref in refs
    )
