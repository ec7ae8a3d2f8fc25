"""Read-only views: tables whose rows are a directory laid out differently from the SQL.

A relational schema and a catalogue layout of the same data need not agree on shapes: the
warehouse keeps parameters as ``(owner, name, value)`` rows where the catalogue gives every
parameter name an attribute of its own, and keeps one ``replicas`` table where the catalogue
has one directory per site. A view declares such a mapping once, on the connection
(``connect(..., views=...)`` or ``Connection.views``), and SQL written for the relational
shape then runs unchanged on the catalogue's. A view shadows a directory of the same name.

- :class:`RenamedTable`: a directory whose columns have other names in SQL.
- :class:`NameValueTable`: ``(key, name, value)`` rows, one per non-NULL attribute of each
  entry of a directory that has an attribute per name. An alias whose ``name`` is fixed by
  an equality with a constant is just that attribute (``pivot.py`` rewrites it so that the
  catalogue joins and filters it); any other use reads the entries and unfolds them in
  Python.
- :class:`PartitionedTable`: the union of the sub-directories of a directory, each entry
  tagged with its sub-directory's name; read one sub-directory at a time.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bookkeeping.jdbc_compat.exceptions import NotSupportedError
from bookkeeping.jdbc_compat.schema import match_name


def _same(name: str) -> str:
    return name


@dataclass(frozen=True)
class RenamedTable:
    """A directory (relative to the base directory, or absolute) whose SQL columns are
    ``columns`` (SQL name -> attribute); its other attributes are not visible."""

    directory: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class NameValueTable:
    """``(key, name, value)`` rows over a directory with one attribute per name.

    ``key`` is (SQL column, attribute) of the owner id; ``attribute_of``/``name_of`` map a
    name to its attribute and back (an encoding for names the query language cannot spell).
    Values are text, as a name/value table stores them: numbers read as ``str(number)``.
    ``unique_key``: at most one entry per key value (aliases joined on the same key are then
    the same entry and are read as one).
    """

    directory: str
    key: tuple[str, str]
    name_column: str = "name"
    value_column: str = "value"
    value_type: str = "varchar(255)"
    attribute_of: Callable[[str], str] = field(default=_same, compare=False)
    name_of: Callable[[str], str] = field(default=_same, compare=False)
    unique_key: bool = True

    @property
    def columns(self) -> tuple[str, str, str]:
        return (self.key[0], self.name_column, self.value_column)


@dataclass(frozen=True)
class PartitionedTable:
    """The entries of every sub-directory of ``directory``, with ``partition_column`` holding
    the sub-directory's name; ``columns`` are (SQL name, attribute, catalogue type), the
    attributes every sub-directory has."""

    directory: str
    partition_column: str
    columns: tuple[tuple[str, str, str], ...]
    partition_type: str = "varchar(255)"
    # SQL columns never NULL (as in the relational table): where the wire cannot tell an
    # empty string from NULL (amga://), their empty value reads as "".
    not_null: tuple[str, ...] = ()


View = RenamedTable | NameValueTable | PartitionedTable


def find_view(views: Mapping[str, View], table: str) -> View | None:
    """The view a table name stands for (exact name, else the one case-insensitive match)."""
    if not views:
        return None
    found = match_name(table, views)
    return None if found is None else views[found]


def view_directory(base_directory: str, view: View) -> str:
    """The absolute path of the directory a view reads."""
    return posixpath.normpath(posixpath.join(base_directory, view.directory))


def refuse_write(views: Mapping[str, View], table: str, statement: str) -> None:
    if find_view(views, table) is not None:
        raise NotSupportedError(f"{statement} of {table}: it is a read-only view")
