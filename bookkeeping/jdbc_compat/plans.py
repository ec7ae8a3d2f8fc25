"""The catalogue operations a SQL statement translates into (pure data: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bookkeeping.jdbc_compat.evaluate import Evaluator
from bookkeeping.jdbc_compat.pipeline import Pipeline

if TYPE_CHECKING:
    from bookkeeping.jdbc_compat.fetch import Fetch
    from bookkeeping.jdbc_compat.scope import ResolvedColumn
    from bookkeeping.jdbc_compat.subquery import SemiJoin


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type_code: str | None


@dataclass(frozen=True)
class CatalogueQuery:
    """One ``selectattr``: selected items and a condition (with its modifiers)."""

    items: tuple[str, ...]
    condition: str
    types: tuple[str | None, ...]  # each item's catalogue type, to decode text from the wire


@dataclass(frozen=True)
class SelectRows:
    query: CatalogueQuery
    columns: tuple[ResultColumn, ...]
    # Work left to Python over the fetched rows, None when the catalogue does it all.
    pipeline: Pipeline | None = None
    # EXISTS subqueries the pipeline tests: read first (subquery.py).
    semijoins: tuple[SemiJoin, ...] = ()


@dataclass(frozen=True)
class JoinStep:
    """Join ``fetches[index]`` to the rows so far: equal ``left_keys``/``right_keys`` (a hash
    join), then ``condition``; an outer join keeps unmatched rows with NULLs. ``restrict``:
    (key number, joined column) pairs by which the joined table may be read as ``column in
    (the left rows' values)``."""

    index: int
    outer: bool
    left_keys: tuple[Evaluator, ...]
    right_keys: tuple[Evaluator, ...]
    condition: Evaluator | None
    restrict: tuple[tuple[int, ResolvedColumn], ...] = ()


@dataclass(frozen=True)
class JoinRows:
    """A SELECT the query language cannot join (a self-join, a LEFT JOIN, a view Python
    reads): the core and every other table are fetched on their own (with the conditions
    that concern them alone) and joined in Python, then the pipeline runs over the rows."""

    fetches: tuple[Fetch, ...]
    steps: tuple[JoinStep, ...]
    width: int
    columns: tuple[ResultColumn, ...]
    pipeline: Pipeline
    semijoins: tuple[SemiJoin, ...] = ()


@dataclass(frozen=True)
class CreateTable:
    directory: str
    attributes: tuple[tuple[str, str], ...]  # (name, catalogue type)
    not_null: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropTable:
    directory: str | None  # None: DROP TABLE IF EXISTS of a missing table, nothing to do


@dataclass(frozen=True)
class InsertRows:
    """``addentries``; ``name_slot`` is the value position holding the entry name (an
    inserted FILE column), None to generate names."""

    directory: str
    attributes: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    name_slot: int | None = None


@dataclass(frozen=True)
class UpdateEntries:
    """``updateattr <dir>/* <attr> <expression> ... <condition>``."""

    directory: str
    assignments: tuple[tuple[str, str], ...]
    condition: str


@dataclass(frozen=True)
class DeleteEntries:
    """``find <dir> <condition>`` then ``rm`` of what it found (everything when no condition)."""

    directory: str
    condition: str


@dataclass(frozen=True)
class RewriteEntries:
    """UPDATE/DELETE whose filter or new values need Python: fetch each candidate entry's name
    (first item) and the columns used, keep those ``keep`` accepts, then ``setattr`` the
    computed ``values`` on each (or ``rm`` it when ``values`` is None)."""

    directory: str
    query: CatalogueQuery
    keep: Evaluator | None
    values: tuple[tuple[str, Evaluator], ...] | None


Plan = (
    SelectRows
    | CreateTable
    | DropTable
    | InsertRows
    | UpdateEntries
    | DeleteEntries
    | RewriteEntries
    | JoinRows
)
