"""``selectattr`` over several directories as one statement: the UNION ALL of one SELECT per
directory (an engine extension; the AMGA protocol has no such command).

Each branch is what ``compile_select`` makes of the items and condition with that directory
as the default one (bare attribute names refer to it): its own read filter, the WHERE
clause pushed into it and, with aggregates, its own grouping (so aggregates are per
directory). The modifiers apply to the union: ORDER BY, LIMIT and OFFSET on the outer
query, over the branches' labelled columns. With a LIMIT each branch is cut to
``offset + limit`` rows in the union's order first (a row of the union's first
``offset + limit`` is among the first ``offset + limit`` of its own branch), so the database
never carries more than that from any directory. ``distinct`` makes it a UNION.

Order keys that are not selected travel as hidden columns ``key_<i>`` of every branch and
are left out of the outer SELECT. Branch ``i`` may carry its index as a leading column
``directory`` (so callers can tell the rows apart without a per-directory query).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bookkeeping.chunking import chunked

from . import ast
from .compiler import _check_order, _grouping, _has_aggregate, _where
from .constructs import binary_order, nulls_low
from .errors import QuerySyntaxError, QueryTypeError
from .expressions import ExpressionCompiler, Scope, kind_of
from .parser import parse_condition, parse_select_items
from .protocols import Resolver

# SQLite refuses compound SELECTs of more than 500 terms (SQLITE_MAX_COMPOUND_SELECT):
# longer unions are nested, this many branches per level.
UNION_FAN_OUT = 400
DIRECTORY_COLUMN = "directory"


@dataclass(frozen=True)
class _OrderKey:
    label: str  # item_<i> or key_<i>
    descending: bool


def check_union_text(items: Sequence[str], condition: str) -> None:
    """The checks that need no directory (syntax): for a union of no directories."""
    if not items:
        raise QuerySyntaxError("select at least one attribute", "", 0)
    parse_select_items(items)
    parse_condition(condition)


def compile_union(
    directories: Sequence[str],
    items: Sequence[str],
    condition: str,
    resolver: Resolver,
    *,
    with_directory: bool = False,
) -> sa.Select[Any]:
    """One statement selecting ``items`` from every directory of ``directories`` meeting
    ``condition``; column i labelled ``item_i`` (after ``directory``, the branch's index in
    ``directories``, when ``with_directory``)."""
    check_union_text(items, condition)
    if not directories:
        raise QuerySyntaxError("a union needs at least one directory", "", 0)
    nodes = parse_select_items(items)
    parsed = parse_condition(condition)
    cut = None if parsed.limit is None else parsed.limit + (parsed.offset or 0)
    branches: list[sa.Select[Any]] = []
    keys: list[_OrderKey] = []
    first: tuple[str, list[str]] | None = None
    for index, directory in enumerate(directories):
        branch, keys, kinds = _branch(
            index, directory, nodes, items, parsed, condition, resolver, cut, with_directory
        )
        if first is None:
            first = (directory, kinds)
        else:
            _check_kinds(first, (directory, kinds), items)
        branches.append(branch)
    union = _nested(branches, distinct=parsed.distinct).subquery("u")
    selected = [union.c[f"item_{i}"] for i in range(len(items))]
    if with_directory:
        selected.insert(0, union.c[DIRECTORY_COLUMN])
    statement = sa.select(*selected)
    if keys:
        statement = statement.order_by(
            *(nulls_low(binary_order(union.c[key.label]), key.descending) for key in keys)
        )
    if parsed.limit is not None:
        statement = statement.limit(parsed.limit)
    if parsed.offset is not None:
        statement = statement.offset(parsed.offset)
    return statement


def _branch(
    index: int,
    directory: str,
    nodes: Sequence[ast.Node],
    items: Sequence[str],
    parsed: ast.Condition,
    condition: str,
    resolver: Resolver,
    cut: int | None,
    with_directory: bool,
) -> tuple[sa.Select[Any], list[_OrderKey], list[str]]:
    scope = Scope(resolver, directory)
    # The branch's own directory first: resolved (its read right checked) and in FROM even
    # when no item or condition names it.
    scope.bind(None)
    columns = [
        ExpressionCompiler(scope, text).value(node) for node, text in zip(nodes, items, strict=True)
    ]
    kinds = [kind_of(column.type) for column in columns]
    where = _where(scope, parsed, condition)
    grouped = _grouping(scope, nodes, items)
    visible = [scope.key(node) for node in nodes]
    _check_order(scope, parsed, condition, grouped, visible)
    keys: list[_OrderKey] = []
    hidden: list[sa.ColumnElement[Any]] = []
    for item in parsed.order_by:
        key = scope.key(item.expression)
        if key in visible:
            position = visible.index(key)
            # Ordered by code point in the branch (its top rows) and in the union alike.
            columns[position] = binary_order(columns[position])
            label = f"item_{position}"
        else:
            value = ExpressionCompiler(scope, condition).value(item.expression)
            label = f"key_{len(hidden)}"
            hidden.append(binary_order(value).label(label))
        keys.append(_OrderKey(label, item.descending))
    labelled = [column.label(f"item_{i}") for i, column in enumerate(columns)]
    if with_directory:
        labelled.insert(0, sa.literal(index, sa.Integer()).label(DIRECTORY_COLUMN))
    statement = sa.select(*labelled, *hidden)
    from_clause = scope.from_clause()
    if from_clause is not None:
        statement = statement.select_from(from_clause)
    statement = statement.where(*where, *scope.read_filters())
    if grouped is not None:
        statement = statement.group_by(
            *(
                column
                for node, column in zip(nodes, columns, strict=True)
                if not _has_aggregate(node)
            )
        )
    if parsed.distinct:
        statement = statement.distinct()
    if cut is not None:
        if keys:
            statement = statement.order_by(
                *(nulls_low(sa.literal_column(key.label), key.descending) for key in keys)
            )
        statement = statement.limit(cut)
        # A compound member may not carry ORDER BY / LIMIT on SQLite: read it as a table.
        inner = statement.subquery(f"b{index}")
        statement = sa.select(*inner.c)
    return statement, keys, kinds


def _check_kinds(
    first: tuple[str, list[str]], other: tuple[str, list[str]], items: Sequence[str]
) -> None:
    (first_directory, first_kinds), (directory, kinds) = first, other
    for position, (a, b) in enumerate(zip(first_kinds, kinds, strict=True)):
        if a != b and "other" not in {a, b}:
            raise QueryTypeError(
                f"{items[position]} is a {a} in {first_directory} but a {b} in {directory}: "
                "the directories of a union must agree on the selected attributes' types",
                items[position],
                0,
            )


def _nested(branches: list[sa.Select[Any]], *, distinct: bool) -> sa.CompoundSelect:
    combine = sa.union if distinct else sa.union_all
    if len(branches) == 1:
        # A union of one: still a compound, so the caller treats every case alike.
        return combine(branches[0])
    while len(branches) > UNION_FAN_OUT:
        grouped = []
        for chunk in chunked(branches, UNION_FAN_OUT):
            part = combine(*chunk).subquery()
            grouped.append(sa.select(*part.c))
        branches = grouped
    return combine(*branches)
