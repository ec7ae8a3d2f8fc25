"""The in-process back-end: a :class:`CatalogueSession` on a database engine."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from bookkeeping.jdbc_compat.exceptions import NotSupportedError

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession

_GLOB = set("*?[")


class LocalBackend:
    empty_is_null = False

    def __init__(
        self,
        session: CatalogueSession,
        base_directory: str,
        on_close: Callable[[], object] | None = None,
    ) -> None:
        self.session = session
        self.base_directory = posixpath.normpath("/" + base_directory.strip("/"))
        self._on_close = on_close

    @property
    def in_transaction(self) -> bool:
        return bool(self.session.in_transaction)

    def begin(self) -> None:
        self.session.begin()

    def commit(self) -> None:
        self.session.commit()

    def abort(self) -> None:
        self.session.abort()

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def directories(self) -> list[str]:
        return self.subdirectories(self.base_directory)

    def subdirectories(self, directory: str) -> list[str]:
        listing = self.session.dir(directory)
        return [
            posixpath.basename(name.rstrip("/"))
            for name, kind in listing
            if kind.startswith("collection")
        ]

    def attributes(self, directory: str) -> list[tuple[str, str]]:
        return list(self.session.listattr(directory))

    def createdir(self, path: str) -> None:
        self.session.createdir(path)

    def rmdir(self, path: str) -> None:
        self.session.rmdir(path, recursive=True)

    def addattr(self, directory: str, name: str, type_: str) -> None:
        self.session.addattr(directory, name, type_)

    def constraint_add_not_null(self, directory: str, attribute: str) -> None:
        self.session.constraint_add_not_null(directory, attribute)

    def constraint_add_unique(self, directory: str, attributes: Sequence[str]) -> None:
        self.session.constraint_add_unique(directory, attributes)

    def addentries(self, directory: str, rows: Iterable[tuple[str, Mapping[str, object]]]) -> int:
        return self.session.addentries(directory, rows)

    def setattr(self, path: str, values: Mapping[str, object]) -> None:
        self.session.setattr(path, values)

    def rm_entry(self, directory: str, name: str) -> None:
        self.session.rm(entry_path(directory, name))

    def find(self, directory: str, condition: str) -> Iterator[str]:
        return (posixpath.basename(path) for path in self.session.find(directory, condition))

    def selectattr(
        self, items: Sequence[str], condition: str, types: Sequence[str | None]
    ) -> Iterator[tuple[object, ...]]:
        return self.session.selectattr(items, condition)

    def updateattr(
        self, directory: str, assignments: Sequence[tuple[str, str]], condition: str
    ) -> int:
        return self.session.updateattr(directory, assignments, condition)


def entry_path(directory: str, name: str) -> str:
    """The path of one entry; a name holding glob characters would be read as a pattern."""
    if _GLOB & set(name):
        raise NotSupportedError(f"entry name {name!r} holds glob characters (* ? [)")
    return f"{directory}/{name}"
