"""The catalogue-session operations the bookkeeping reads with, as protocols.

The reader (``reader``, ``records``, ``catalogue_io``) and the view builder
(``views``) need only these calls, so they run alike on an in-process
``CatalogueSession`` and on a ``RemoteSession`` (``bookkeeping.amga_adapter.client.remote``), which
makes each of them over the AMGA protocol. Both return typed values (int, str, datetime,
``None`` for NULL) and raise the catalogue's errors (``NoSuchEntry``, ``PermissionDenied``...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class ReadSession(Protocol):
    """What answering a bookkeeping call needs."""

    def selectattr(
        self, items: Sequence[str], condition: str = ""
    ) -> Iterator[tuple[Any, ...]]: ...

    def getattr(
        self, path_or_pattern: str, attributes: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]: ...

    def listattr(self, path: str) -> list[tuple[str, str]]: ...

    def dir(self, pattern: str = ".") -> Iterator[tuple[str, str]]: ...

    def selectattr_union(
        self,
        directories: Sequence[str],
        items: Sequence[str],
        condition: str = "",
        *,
        with_directory: bool = False,
    ) -> Iterator[tuple[Any, ...]]: ...

    def close(self) -> None: ...


class LayoutSession(ReadSession, Protocol):
    """A session that can also lay out an empty catalogue (``layout.ensure_layout``)."""

    def createdir(self, path: str, *, plain: bool = False) -> None: ...

    def ensure_attributes(
        self, directory: str, attributes: Mapping[str, str | None]
    ) -> list[str]: ...

    def constraint_list(self, directory: str) -> list[str]: ...

    def constraint_add_unique(self, directory: str, attributes: Sequence[str]) -> str: ...


class SessionSource(Protocol):
    """Where a reader's sessions come from (``reader.CatalogueReader``'s one collaborator),
    and how the operations of one of its calls are grouped."""

    def open(self) -> LayoutSession:
        """A new session (the reader closes it at the end of the call)."""
        ...

    def one_call(self, session: LayoutSession) -> AbstractContextManager[None]:
        """What makes the session's operations one call (around every call)."""
        ...

    def bounded_reads(self, session: LayoutSession) -> AbstractContextManager[None]:
        """How the reads of a call of bounded size are grouped (around those calls)."""
        ...
