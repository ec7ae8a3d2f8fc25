"""What the query compiler needs of a session (``query.Resolver``): directory paths
resolved against its current directory, attribute names mapped to the generated columns,
and the permission clause that keeps unreadable entries out. Used by the query and the
constraint services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute
from bookkeeping.amga_adapter.engine.permissions import Principal
from bookkeeping.amga_adapter.engine.session_core import SessionCore

FILE = "FILE"
T = TypeVar("T")


@dataclass
class ResolvedCatalogueDirectory:
    """A directory as the query compiler sees it (``query.ResolvedDirectory``)."""

    info: DirectoryInfo
    principal: Principal
    aliases_used: int = 0  # this compilation's aliases of the directory so far

    @property
    def path(self) -> str:
        return self.info.path

    def new_alias(self) -> sa.FromClause:
        """An alias distinct from the others of this compilation (one resolver each)."""
        alias = self.info.alias(self.aliases_used)
        self.aliases_used += 1
        return alias

    def column(self, source: sa.FromClause, attribute: str) -> sa.ColumnElement[Any]:
        if attribute.upper() == FILE:
            return source.c.name
        return source.c[self.info.attribute(attribute).column]

    def read_filter(self, source: sa.FromClause) -> sa.ColumnElement[bool] | None:
        return self.principal.entry_filter(self.info, source, "r")


class SessionResolver:
    """``query.Resolver`` for one session and one connection; every directory it resolves
    must be readable by the session's user (or ``principal``)."""

    def __init__(
        self,
        core: SessionCore,
        connection: sa.Connection,
        principal: Principal | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        self.core = core
        self.connection = connection
        self.principal = principal or core.principal
        self.fresh = fresh
        self._resolved: dict[str, ResolvedCatalogueDirectory] = {}

    def directory(self, raw_path: str) -> ResolvedCatalogueDirectory:
        path = self.core.absolute(raw_path)
        if path not in self._resolved:
            info = self.core.directory(self.connection, path, fresh=self.fresh)
            self.principal.require(info, "r", "query the directory")
            self._resolved[path] = ResolvedCatalogueDirectory(info, self.principal)
        return self._resolved[path]


def compiled(
    core: SessionCore, connection: sa.Connection, compile_: Callable[[SessionResolver], T]
) -> T:
    """``compile_`` with the cached schema; on an unknown attribute once more with every
    directory reloaded: another process may have added it since it was cached."""
    try:
        return compile_(SessionResolver(core, connection))
    except NoSuchAttribute:
        return compile_(SessionResolver(core, connection, fresh=True))
