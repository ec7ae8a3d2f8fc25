"""The catalogue schema as the translator sees it, read through a back-end and cached per
connection (dropped after DDL and rollback, and re-read once when a name is not found)."""

from __future__ import annotations

from bookkeeping.jdbc_compat.backend import Backend


class CachedSchema:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.base_directory = backend.base_directory
        self._directories: list[str] | None = None
        self._attributes: dict[str, list[tuple[str, str]]] = {}
        self.fresh = True  # nothing read from the cache since the last refresh

    def refresh(self) -> None:
        self._directories = None
        self._attributes.clear()
        self.fresh = True

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
