"""A small real catalogue for the query tests: directories are plain SQLAlchemy tables
(one per directory, entry name in ``file``, attributes as columns named as written), and
the Resolver the compiler needs, resolving paths against a current directory."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bookkeeping.errors import BookkeepingError


class UnknownDirectory(BookkeepingError):
    code = 990


class UnknownAttribute(BookkeepingError):
    code = 991


ReadFilter = Callable[["TableDirectory", sa.FromClause], sa.ColumnElement[bool] | None]


@dataclass
class TableDirectory:
    path: str
    table: sa.Table
    read_filter_factory: ReadFilter | None = None

    def new_alias(self) -> sa.FromClause:
        return self.table.alias()

    def column(self, source: sa.FromClause, attribute: str) -> sa.ColumnElement[Any]:
        name = "file" if attribute == "FILE" else attribute
        if name == "file" and attribute != "FILE" or name not in source.c:
            raise UnknownAttribute(f"{self.path} has no attribute {attribute}")
        return source.c[name]

    def read_filter(self, source: sa.FromClause) -> sa.ColumnElement[bool] | None:
        if self.read_filter_factory is None:
            return None
        return self.read_filter_factory(self, source)


@dataclass
class TableResolver:
    directories: dict[str, TableDirectory]
    cwd: str = "/"
    calls: list[str] = field(default_factory=list)

    def directory(self, raw_path: str) -> TableDirectory:
        self.calls.append(raw_path)
        path = posixpath.normpath(posixpath.join(self.cwd, raw_path))
        path = "/" + path.lstrip("/")
        try:
            return self.directories[path]
        except KeyError:
            raise UnknownDirectory(f"no such directory: {path}") from None


def directory_table(
    metadata: sa.MetaData, name: str, attributes: Mapping[str, sa.types.TypeEngine[Any]]
) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("file", sa.String(255), primary_key=True),
        *(sa.Column(attribute, type_) for attribute, type_ in attributes.items()),
    )


def fill(connection: sa.Connection, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        connection.execute(table.insert(), rows)
