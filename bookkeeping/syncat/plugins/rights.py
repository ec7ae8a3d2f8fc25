"""The receiver's own permissions: the catalogue's ACLs, asked as the requester."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import CatalogueError, NoSuchDirectory, NoSuchEntry
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.errors import NotAllowed

# How long a right found is taken as still held (a revoked right stops working after at most
# this long, as the catalogue's own principal cache does).
GRANT_TTL = 10.0


class CatalogueRights:
    """``require(user, path, letter)``: the user holds ``letter`` (r, w or x) on the catalogue
    path, or the nearest directory above it that exists. ``require_on_se``: on the replica
    directory of the SE's site (``/replicas/<site>``), where the catalogue keeps its copies."""

    def __init__(self, engine: Engine, *, ttl: float = GRANT_TTL) -> None:
        self.catalogue = Catalogue(engine)
        self.registry = StorageRegistry(engine)
        self.ttl = ttl
        self._granted: dict[tuple[str, str, str], float] = {}

    def require_on_se(self, user: str, se: str, letter: str, why: str) -> None:
        key = (user, se, letter)
        if time.monotonic() - self._granted.get(key, -self.ttl) < self.ttl:
            return  # granted a moment ago: a burst of messages asks once
        self._check_on_se(user, se, letter, why)
        self._granted[key] = time.monotonic()

    def _check_on_se(self, user: str, se: str, letter: str, why: str) -> None:
        record = self.registry.find(se)
        if record is None:
            raise NotAllowed(f"no storage element named {se!r} is registered here")
        self.require(user, L.replica_directory(record.site or se), letter, why)

    def require(self, user: str, path: str, letter: str, why: str) -> None:
        try:
            session = self.catalogue.session(user)
        except CatalogueError as exc:
            raise NotAllowed(f"requester {user!r} is not a catalogue user: {exc}") from None
        try:
            target = path
            while True:
                try:
                    rights = session.rights(target)
                    break
                except (NoSuchDirectory, NoSuchEntry):
                    if target in ("", "/"):
                        raise
                    target = target.rsplit("/", 1)[0] or "/"
        except CatalogueError as exc:
            raise NotAllowed(f"requester {user!r} may not {why}: {exc}") from None
        finally:
            session.close()
        if letter not in rights:
            raise NotAllowed(
                f"requester {user!r} may not {why}: needs {letter!r} on {target}, has {rights}"
            )
