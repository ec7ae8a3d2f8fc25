"""Server-side federation: subtrees of this catalogue server that live on other servers.

``bk amga serve --mount /PATH=amga://HOST:PORT/PATH`` (or ``amga_mounts`` in the config
file, ``BK_AMGA_MOUNTS``) makes ``/PATH`` a mount: every command on a path under it goes
to that server, over the AMGA protocol, **as the caller** (their login and password), so
what a user creates through a mount is owned by that user there, and the remote server's
own permission checks apply. Clients, existing AMGA clients included, see one namespace.

A prefix may be mounted from several servers (``--mount`` twice): reads go to each, in
the order given, and their results are concatenated (``dir`` without duplicates); writes
go to the first. A ``selectattr``/``find`` whose directories all lie in one mount is sent
there whole; one that would join a mount with local directories (or two mounts) is
refused, as no server holds both. A server that cannot be reached fails the commands on
its part with ``MountUnavailable`` naming the mount and the server; the rest of the
namespace is unaffected. The path at the remote server may differ from the mount point
(``--mount /sites/cern=amga://HOST:PORT/data``): paths are translated both ways, and a
query's absolute directory references (``/sites/cern/x:run``) are rewritten for it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.client.client_connection import CommandException, ConnectionLost
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.directories import COLLECTION
from bookkeeping.amga_adapter.protocol import quote
from bookkeeping.replication.errors import MountConfigError, MountUnavailable, ReplicationError
from bookkeeping.replication.mount_paths import Remote, condition_refs, item_refs

T = TypeVar("T")
Connect = Callable[[str, str, str | None], MDClient]


class RemoteRefusal(ReplicationError):
    """A mounted server's own error answer, passed on with its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]  # per instance: the remote server's code


@dataclass(frozen=True)
class Mount:
    prefix: str
    urls: tuple[str, ...]
    # False: a slave subtree whose writes go to its master, reads staying local.
    reads: bool = True
    # The path at each server (by URL) that the prefix stands for; the prefix itself
    # where not given.
    remotes: tuple[tuple[str, str], ...] = ()

    def covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def remote_path(self, url: str) -> str:
        return dict(self.remotes).get(url, self.prefix)


Call = Callable[[MDClient, Remote], T]


def parse_mounts(specs: Iterable[str], forwards: Iterable[str] = ()) -> list[Mount]:
    """``/PATH=amga://HOST:PORT[/REMOTE]`` each (``REMOTE``: the path there, the mount
    point itself by default); a prefix given twice is on two servers. ``forwards`` (same
    form) name slave subtrees whose writes go to their master."""
    table: dict[str, list[tuple[str, str]]] = {}
    for spec in specs:
        prefix, url, remote = _parse_mount(spec)
        if any(known == url for known, _ in table.get(prefix, [])):
            raise MountConfigError(f"mount {spec!r}: {prefix} is mounted from {url} already")
        table.setdefault(prefix, []).append((url, remote))
    mounts = [_mount(prefix, pairs) for prefix, pairs in table.items()]
    for spec in forwards:
        prefix, url, remote = _parse_mount(spec)
        if prefix in table:
            raise MountConfigError(f"{prefix} is both mounted and forwarded: choose one")
        mounts.append(_mount(prefix, [(url, remote)], reads=False))
    return sorted(mounts, key=lambda mount: -len(mount.prefix))


def _mount(prefix: str, pairs: list[tuple[str, str]], *, reads: bool = True) -> Mount:
    remotes = tuple((url, remote) for url, remote in pairs if remote != prefix)
    return Mount(prefix, tuple(url for url, _ in pairs), reads, remotes)


def _parse_mount(spec: str) -> tuple[str, str, str]:
    prefix, equals, url = spec.strip().partition("=")
    if not equals:
        raise MountConfigError(f"mount {spec!r}: write /PATH=amga://HOST:PORT/PATH")
    prefix = prefix.strip()
    if not prefix.startswith("/") or prefix == "/" or prefix != paths.normalise(prefix, "/"):
        raise MountConfigError(
            f"mount {spec!r}: the mount point must be an absolute path below '/' "
            "(no trailing '/', no '.' or '..')"
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in {"amga", "amgas"} or not parts.hostname:
        raise MountConfigError(f"mount {spec!r}: {url!r} is not amga://HOST:PORT/PATH")
    if parts.username or parts.password:
        raise MountConfigError(
            f"mount {spec!r}: no credentials in a mount's URL: each caller's own are used"
        )
    try:
        port = parts.port
    except ValueError:
        raise MountConfigError(f"mount {spec!r}: the port is not a number") from None
    remote = parts.path or prefix
    if parts.query or parts.fragment or remote != paths.normalise(remote, "/"):
        raise MountConfigError(
            f"mount {spec!r}: the remote path {remote!r} must be an absolute path "
            "(no trailing '/', no '.' or '..', no '?' or '#')"
        )
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    return prefix, f"{parts.scheme}://{netloc}", remote


def _connect(url: str, login: str, password: str | None) -> MDClient:
    client = MDClient.from_url(url)
    client.login, client.password = login, password or ""
    return client


class MountingCatalogue:
    """The catalogue the server serves, with mounts: sessions become ``MountedSession``."""

    def __init__(
        self, catalogue: Any, mounts: Sequence[Mount], *, connect: Connect = _connect
    ) -> None:
        self.catalogue = catalogue
        self.mounts = list(mounts)
        self._connect = connect

    def __getattr__(self, name: str) -> Any:  # engine, authenticate, user_for_dn, ...
        return getattr(self.catalogue, name)

    def session(self, user: str) -> MountedSession:
        """A session without a password to forward (certificate logins): mounts refuse."""
        return MountedSession(self.catalogue.session(user), self.mounts, None, self._connect)

    def login_session(self, user: str, password: str | None) -> MountedSession:
        return MountedSession(self.catalogue.session(user), self.mounts, password, self._connect)


class MountedSession:
    """A ``CatalogueSession`` whose mounted subtrees are served by other servers."""

    def __init__(
        self, local: Any, mounts: Sequence[Mount], password: str | None, connect: Connect
    ) -> None:
        self.local = local
        self.mounts = mounts
        self._password = password
        self._connect = connect
        self._clients: dict[str, MDClient] = {}
        self._cwd = "/"

    def __getattr__(self, name: str) -> Any:
        # Everything without a path of its own (whoami, begin, commit, user, ...) and the
        # rest (ACLs, sequences, constraints), which go through _guard below.
        attribute = getattr(self.local, name)
        if name in _LOCAL_ONLY and callable(attribute):
            return self._guard(name, attribute)
        return attribute

    # -- routing -------------------------------------------------------------------------

    def _abs(self, path: str) -> str:
        return paths.normalise(path, self._cwd)

    def _mount(self, path: str, *, write: bool = False) -> Mount | None:
        absolute = self._abs(path)
        return next((m for m in self.mounts if m.covers(absolute) and (write or m.reads)), None)

    def _client(self, mount: Mount, url: str) -> MDClient:
        if self.local.in_transaction:
            raise ReplicationError(
                f"{mount.prefix} is mounted from {url}: a transaction cannot include it "
                "(commit or abort first)"
            )
        client = self._clients.get(url)
        if client is None:
            if self._password is None and self.local.user != "anonymous":
                raise MountUnavailable(
                    f"{mount.prefix} is mounted from {url}: it needs a password login "
                    "(a certificate login cannot be passed on)"
                )
            client = self._connect(url, self.local.user, self._password)
            self._clients[url] = client
        return client

    def _on(self, mount: Mount, url: str, call: Call[T]) -> T:
        try:
            return call(self._client(mount, url), Remote(mount, mount.remote_path(url)))
        except ConnectionLost as exc:
            self._drop(url)
            raise MountUnavailable(
                f"{mount.prefix} is mounted from {url}, which cannot be reached: "
                f"{exc.server_message}"
            ) from None
        except OSError as exc:
            self._drop(url)
            raise MountUnavailable(
                f"{mount.prefix} is mounted from {url}, which cannot be reached: {exc}"
            ) from None
        except CommandException as exc:
            raise RemoteRefusal(exc.code, exc.server_message) from None

    def _owner(self, mount: Mount, call: Call[T]) -> T:
        return self._on(mount, mount.urls[0], call)

    def _every(self, mount: Mount, call: Call[list[T] | None]) -> list[T]:
        merged: list[T] = []
        for url in mount.urls:
            found: list[T] | None = self._on(mount, url, call)
            merged.extend(found or ())
        return merged

    def _first(self, mount: Mount, call: Call[list[T] | None]) -> list[T]:
        """One entry of a mount on several servers: from the first server that has it."""
        refusal: RemoteRefusal | None = None
        for url in mount.urls:
            try:
                return self._on(mount, url, call) or []
            except RemoteRefusal as exc:
                refusal = refusal or exc
        assert refusal is not None
        raise refusal

    def _drop(self, url: str) -> None:
        client = self._clients.pop(url, None)
        if client is not None:
            client.close()

    def _guard(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str) and self._mount(args[0]) is not None:
                raise ReplicationError(
                    f"{name} is not available through a mount ({self._abs(args[0])} is "
                    "mounted from another server): run it there"
                )
            return method(*args, **kwargs)

        return guarded

    def close(self) -> None:
        for url in list(self._clients):
            self._drop(url)
        self.local.close()

    # -- navigation ------------------------------------------------------------------------

    def cd(self, path: str) -> None:
        target = self._abs(path)
        mount = self._mount(target)
        if mount is None:
            self.local.cd(target)
        else:
            self._owner(mount, lambda c, r: c.cd(r(target)))
        self._cwd = target

    def pwd(self) -> str:
        return self._cwd

    def dir(self, pattern: str = ".") -> Iterator[tuple[str, str]]:
        target = self._abs(pattern)
        mount = self._mount(target)
        if mount is not None:
            seen: set[str] = set()
            listed = self._every(
                mount,
                lambda c, r: [
                    (r.back(p), kind) for p, kind in c.listEntries(r(target), sync=True) or []
                ],
            )
            return iter([i for i in listed if not (i[0] in seen or seen.add(i[0]))])  # type: ignore[func-returns-value]
        children = [m.prefix for m in self.mounts if posixpath.dirname(m.prefix) == target]
        if not children:
            return self.local.dir(target)
        local = list(self.local.dir(target))
        collections = sorted({p for p, kind in local if kind == COLLECTION} | set(children))
        return iter(
            [(p, COLLECTION) for p in collections] + [i for i in local if i[1] != COLLECTION]
        )

    # -- directories and attributes ----------------------------------------------------------

    def createdir(self, path: str, *, plain: bool = False) -> None:
        target, mount = self._abs(path), self._mount(path, write=True)
        if mount is None:
            return self.local.createdir(target, plain=plain)
        self._owner(
            mount, lambda c, r: c.createPlainDir(r(target)) if plain else c.createDir(r(target))
        )

    def rmdir(self, path: str, **options: Any) -> None:
        target, mount = self._abs(path), self._mount(path, write=True)
        if mount is None:
            return self.local.rmdir(target, **options)
        self._owner(mount, lambda c, r: c.removeDir(r(target)))

    def listattr(self, path: str) -> list[tuple[str, str]]:
        target, mount = self._abs(path), self._mount(path)
        if mount is None:
            return list(self.local.listattr(target))
        names, types = self._owner(mount, lambda c, r: c.listAttr(r(target)))
        return list(zip(names, types, strict=True))

    def addattr(self, directory: str, name: str, type_: str) -> None:
        target, mount = self._abs(directory), self._mount(directory, write=True)
        if mount is None:
            return self.local.addattr(target, name, type_)
        self._owner(mount, lambda c, r: c.addAttr(r(target), name, type_))

    def removeattr(self, directory: str, name: str) -> None:
        target, mount = self._abs(directory), self._mount(directory, write=True)
        if mount is None:
            return self.local.removeattr(target, name)
        self._owner(mount, lambda c, r: c.removeAttr(r(target), name))

    def clearattr(self, directory: str, name: str) -> None:
        target, mount = self._abs(directory), self._mount(directory, write=True)
        if mount is None:
            return self.local.clearattr(target, name)
        self._owner(mount, lambda c, r: c.clearAttr(r(target), name))

    # -- entries -----------------------------------------------------------------------------

    def addentry(self, path: str, values: dict[str, object], **options: Any) -> None:
        target, mount = self._abs(path), self._mount(path, write=True)
        if mount is None:
            return self.local.addentry(target, values, **options)
        self._owner(mount, lambda c, r: c.addEntry(r(target), list(values), list(values.values())))

    def addentries(
        self, directory: str, rows: Iterable[tuple[str, dict[str, object]]], **options: Any
    ) -> int:
        target, mount = self._abs(directory), self._mount(directory, write=True)
        if mount is None:
            return int(self.local.addentries(target, rows, **options))
        rows = list(rows)
        if all(not values for _, values in rows):
            names = [paths.join(target, name) for name, _ in rows]
            self._owner(mount, lambda c, r: c.addEntries([r(n) for n in names]))
        else:
            for name, values in rows:
                self.addentry(paths.join(target, name), values)
        return len(rows)

    def setattr(self, pattern: str, values: dict[str, object], **options: Any) -> int:
        target, mount = self._abs(pattern), self._mount(pattern, write=True)
        if mount is None:
            return int(self.local.setattr(target, values, **options))
        self._owner(mount, lambda c, r: c.setAttr(r(target), list(values), list(values.values())))
        return 0  # the AMGA wire carries no count

    def getattr(self, pattern: str, attributes: Sequence[str]) -> Iterator[Any]:
        target, mount = self._abs(pattern), self._mount(pattern)
        if mount is None:
            return self.local.getattr(target, attributes)
        if paths.is_pattern(posixpath.basename(target)):
            return iter(
                self._every(mount, lambda c, r: c.getattr(r(target), attributes, sync=True))
            )
        return iter(self._first(mount, lambda c, r: c.getattr(r(target), attributes, sync=True)))

    def rm(self, pattern: str) -> int:
        target, mount = self._abs(pattern), self._mount(pattern, write=True)
        if mount is None:
            return int(self.local.rm(target))
        self._owner(mount, lambda c, r: c.rm(r(target)))
        return 0

    # -- queries -----------------------------------------------------------------------------

    def find(self, pattern: str, condition: str = "") -> Iterator[str]:
        target = self._abs(pattern)
        mount = self._query_mount([posixpath.dirname(target)], condition)
        if mount is None:
            return self.local.find(target, condition)
        return iter(
            self._every(
                mount,
                lambda c, r: [
                    r.back(p)
                    for p in self._at_cwd(c, r).find(r(target), r.query(condition), sync=True) or []
                ],
            )
        )

    def selectattr(self, items: Sequence[str], condition: str = "") -> Iterator[Any]:
        directories = [self._abs(ref.directory or ".") for ref in item_refs(items)]
        mount = self._query_mount(directories, condition)
        if mount is None:
            return self.local.selectattr(items, condition)
        return iter(
            self._every(
                mount,
                lambda c, r: self._at_cwd(c, r).selectAttr(
                    [r.query(i) for i in items], r.query(condition), sync=True
                ),
            )
        )

    def updateattr(
        self, pattern: str, assignments: Sequence[tuple[str, str]], condition: str = ""
    ) -> int:
        target = self._abs(pattern)
        mount = self._query_mount([posixpath.dirname(target)], condition, write=True)
        if mount is None:
            return int(self.local.updateattr(target, assignments, condition))
        clauses = [f"{attribute} {quote(expression)}" for attribute, expression in assignments]
        self._owner(
            mount,
            lambda c, r: self._at_cwd(c, r).updateAttr(r(target), clauses, r.query(condition)),
        )
        return 0

    def _query_mount(
        self, directories: Sequence[str], condition: str, *, write: bool = False
    ) -> Mount | None:
        directories = [
            *directories,
            *(self._abs(ref.directory) for ref in condition_refs(condition) if ref.directory),
        ]
        places = {self._mount(d, write=write) for d in directories}
        if len(places) > 1:
            shown = ", ".join(sorted(m.prefix if m else "this server" for m in places))
            raise ReplicationError(
                f"the query joins directories on different servers ({shown}): no server "
                "holds them all; query each part on its own"
            )
        return places.pop() if places else None

    def _at_cwd(self, client: MDClient, remote: Remote) -> MDClient:
        # Relative names in a query resolve against the working directory, here as there
        # (outside the mount, every name in the query is absolute: see _query_mount).
        if remote.mount.covers(self._cwd) and client.pwd() != remote(self._cwd):
            client.cd(remote(self._cwd))
        return client


# Operations that take a path first and are not passed through a mount.
_LOCAL_ONLY = {
    "acl_grant",
    "acl_revoke",
    "acl_show",
    "chown",
    "sequence_create",
    "sequence_next",
    "sequence_remove",
    "constraint_add_not_null",
    "constraint_add_unique",
    "constraint_add_reference",
    "constraint_add_check",
    "constraint_drop",
    "constraint_list",
    "rights",
}
