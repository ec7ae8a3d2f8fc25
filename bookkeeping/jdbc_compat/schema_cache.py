"""The catalogue schema as the translator sees it, read through a back-end and cached per
connection (dropped after DDL and rollback, and re-read once when a name is not found)."""

from __future__ import annotations

from bookkeeping.jdbc_compat.backend import Backend
from bookkeeping.jdbc_compat.rewrite_cache import RewriteCache
from bookkeeping.jdbc_compat.views import View


class CachedSchema:
    def __init__(self, backend: Backend, views: dict[str, View] | None = None) -> None:
        self.backend = backend
        self.base_directory = backend.base_directory
        # The connection's views (docs/jdbc_compat.md, "Views"): the same dict object as
        # ``Connection.views``, so views defined after connecting apply at once.
        self.views: dict[str, View] = views if views is not None else {}
        self._directories: list[str] | None = None
        self._attributes: dict[str, list[tuple[str, str]]] = {}
        self.fresh = True  # nothing read from the cache since the last refresh
        self.generation = 0  # counts refreshes: what was derived from the cache is stale
        self.rewrites = RewriteCache()  # view rewrites (pivot.py), valid for a generation

    def refresh(self) -> None:
        self._directories = None
        self._attributes.clear()
        self.fresh = True
        self.generation += 1

    def directories(self) -> list[str]:
        if self._directories is None:
            self._directories = self.backend.directories()
        else:
            self.fresh = False
        return self._directories

    def attributes(self, directory: str) -> list[tuple[str, str]]:
        if directory not in self._attributes:
            self._attributes[directory] = self.backend.attributes(directory)
        else:
            self.fresh = False
        return self._attributes[directory]
