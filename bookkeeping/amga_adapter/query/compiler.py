"""AMGA statements (selectattr, find, updateattr) compiled to SQLAlchemy Core.

- Every directory named is one FROM element, inner-joined to the others by the condition.
- Each directory's read filter is ANDed in, so unreadable entries never come out.
- Selected aggregates group by the selected items that hold no aggregate (AMGA's rule):
  ``selectattr /f:Type count(/f:FILE)`` counts the entries of each Type.
- find and updateattr act on one directory; other directories named in the condition are
  joined through a correlated EXISTS, so each entry comes out (or is updated) once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql import visitors

from . import ast
from .constructs import binary_order, case_sensitive_like, nulls_low
from .errors import QuerySyntaxError, QueryTypeError
from .expressions import Bound, ExpressionCompiler, Scope, always_true
from .parser import parse_condition, parse_expression, parse_select_items
from .patterns import LIKE_ESCAPE, canonical_like
from .protocols import Resolver

NameLike = tuple[str, str]  # (LIKE pattern, escape character), see glob_to_like


def compile_select(
    items: Sequence[str], condition: str, resolver: Resolver, *, default_directory: str = "."
) -> sa.Select[Any]:
    """``selectattr items... 'condition'``: one row per match, column i labelled ``item_i``."""
    if not items:
        raise QuerySyntaxError("select at least one attribute", "", 0)
    nodes = parse_select_items(items)
    parsed = parse_condition(condition)
    scope = Scope(resolver, default_directory)
    columns = [
        ExpressionCompiler(scope, text).value(node) for node, text in zip(nodes, items, strict=True)
    ]
    conditions = _where(scope, parsed, condition)
    grouped = _grouping(scope, nodes, items)
    visible = [scope.key(node) for node in nodes]
    _check_order(scope, parsed, condition, grouped, visible)
    order = _select_order(scope, parsed, condition, columns, visible)
    statement = sa.select(*(column.label(f"item_{i}") for i, column in enumerate(columns)))
    from_clause = scope.from_clause()
    if from_clause is not None:
        statement = statement.select_from(from_clause)
    statement = statement.where(*conditions, *scope.read_filters())
    if grouped is not None:
        statement = statement.group_by(
            *(
                column
                for node, column in zip(nodes, columns, strict=True)
                if not _has_aggregate(node)
            )
        )
    return _modifiers(statement, parsed, order)


def compile_filter(
    directory: str, condition: str, resolver: Resolver, *, name_like: NameLike | None = None
) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """The entries of ``directory`` meeting ``condition``: its FROM element and a WHERE
    clause (read filters, the name pattern and any other directory's EXISTS included).
    Modifiers (order by, limit, ...) have no meaning here and are refused."""
    parsed = parse_condition(condition)
    _refuse_modifiers(parsed, condition)
    scope = Scope(resolver, directory)
    target = scope.bind(None)
    return target.source, _filter(scope, target, parsed, condition, name_like)


def compile_find(
    directory: str, condition: str, resolver: Resolver, *, name_like: NameLike | None = None
) -> sa.Select[Any]:
    """``find <pattern> 'condition'``: the names of the matching entries of ``directory``
    (bare attributes refer to it), each once, in a column labelled ``name``."""
    parsed = parse_condition(condition)
    scope = Scope(resolver, directory)
    target = scope.bind(None)
    where = _filter(scope, target, parsed, condition, name_like)
    for item in parsed.order_by:
        for ref in ast.attribute_refs(item):
            if scope.bind(ref.directory) is not target:
                raise QueryTypeError(
                    f"find can only order by attributes of {target.directory.path}",
                    condition,
                    ref.position,
                )
    order = _order(scope, parsed, condition)
    name = target.directory.column(target.source, ast.FILE_ATTRIBUTE).label("name")
    statement = sa.select(name).select_from(target.source).where(where)
    return _modifiers(statement, parsed, order)


def compile_update(
    directory: str,
    assignments: Sequence[tuple[str, str]],
    condition: str,
    resolver: Resolver,
    *,
    name_like: NameLike | None = None,
) -> sa.Update:
    """``updateattr <pattern> attr 'expression' ... 'condition'``. Expressions may use the
    attributes of ``directory`` only (``Size+1``); literals take the assigned column's type.

    The caller adds its own write-permission clause with ``.where(...)``. Portable: when
    the filter selects from the updated table itself (which MariaDB refuses), the matching
    entry names are read through a derived table instead."""
    if not assignments:
        raise QuerySyntaxError("assign at least one attribute", "", 0)
    parsed = parse_condition(condition)
    _refuse_modifiers(parsed, condition)
    resolved = resolver.directory(directory)
    table = _base_table(resolved.new_alias())
    scope = Scope(resolver, directory, target=Bound(resolved, table))
    target = scope.bind(None)
    values = {}
    for attribute, text in assignments:
        if attribute.upper() == ast.FILE_ATTRIBUTE:
            raise QueryTypeError("FILE (the entry name) cannot be assigned", attribute, 0)
        column = target.directory.column(table, attribute)
        values[column] = _assigned_value(scope, target, column, text)
    where = _filter(scope, target, parsed, condition, name_like)
    if _selects_from(where, table):
        where = _through_derived_table(resolver, directory, parsed, condition, name_like, target)
    return sa.update(table).where(where).values(values)


# -- pieces -------------------------------------------------------------------------------


def _refuse_modifiers(parsed: ast.Condition, text: str) -> None:
    modifiers = [item.position for item in parsed.order_by]
    if parsed.limit is not None or parsed.offset is not None or parsed.distinct:
        modifiers.append(len(text.rstrip()))
    if modifiers:
        raise QueryTypeError(
            "order by, limit, offset and distinct are not allowed here", text, min(modifiers)
        )


def _where(scope: Scope, parsed: ast.Condition, text: str) -> list[sa.ColumnElement[bool]]:
    if parsed.where is None:
        return []
    return [ExpressionCompiler(scope, text).condition(parsed.where)]


def _filter(
    scope: Scope,
    target: Bound,
    parsed: ast.Condition,
    text: str,
    name_like: NameLike | None,
) -> sa.ColumnElement[bool]:
    clauses = _where(scope, parsed, text)
    others = [bound for bound in scope.bound if bound is not target]
    if others:
        joined = others[0].source
        for bound in others[1:]:
            joined = sa.join(joined, bound.source, always_true())
        exists = (
            sa.select(sa.literal_column("1"))
            .select_from(joined)
            .where(*clauses, *scope.read_filters(others))
            .correlate(target.source)
            .exists()
        )
        clauses = [exists]
    clauses.extend(scope.read_filters([target]))
    if name_like is not None:
        clauses.append(_name_matches(target, name_like))
    return sa.and_(*clauses) if clauses else always_true()


def _name_matches(target: Bound, name_like: NameLike) -> sa.ColumnElement[bool]:
    pattern, escape = name_like
    name = target.directory.column(target.source, ast.FILE_ATTRIBUTE)
    if escape == LIKE_ESCAPE:
        return case_sensitive_like(name, canonical_like(pattern))
    return name.like(pattern, escape=escape)


def _has_aggregate(node: ast.Node) -> bool:
    return any(isinstance(n, ast.FunctionCall) and n.is_aggregate for n in ast.walk(node))


def _grouping(scope: Scope, nodes: Sequence[ast.Node], texts: Sequence[str]) -> set[Any] | None:
    """The keys of the grouped items when aggregates are selected, else None. An attribute
    outside an aggregate must be one of the grouped items."""
    if not any(_has_aggregate(node) for node in nodes):
        return None
    grouped = {scope.key(node) for node in nodes if not _has_aggregate(node)}
    for node, text in zip(nodes, texts, strict=True):
        if not _has_aggregate(node):
            continue
        for ref in _refs_outside_aggregates(node):
            if scope.key(ref) not in grouped:
                raise QueryTypeError(
                    f"{ref} must be inside an aggregate or selected on its own", text, ref.position
                )
    return grouped


def _refs_outside_aggregates(node: ast.Node) -> list[ast.AttributeRef]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.FunctionCall) and current.is_aggregate:
            continue
        if isinstance(current, ast.AttributeRef):
            found.append(current)
        stack.extend(current.children())
    return found


def _check_order(
    scope: Scope, parsed: ast.Condition, text: str, grouped: set[Any] | None, visible: list[Any]
) -> None:
    """With grouping, ordering needs a grouped item; with distinct, a selected one (what
    PostgreSQL and Oracle demand; the others would silently pick an arbitrary row)."""
    for item in parsed.order_by:
        key = scope.key(item.expression)
        if grouped is not None and key not in grouped:
            raise QueryTypeError(
                "with aggregates, order by a selected attribute that is not aggregated",
                text,
                item.position,
            )
        if parsed.distinct and key not in visible:
            raise QueryTypeError(
                "with distinct, order by one of the selected attributes", text, item.position
            )


def _order_item(scope: Scope, item: ast.OrderItem, text: str) -> sa.ColumnElement[Any]:
    value = ExpressionCompiler(scope, text).value(item.expression)
    return nulls_low(binary_order(value), item.descending)


def _select_order(
    scope: Scope,
    parsed: ast.Condition,
    text: str,
    columns: list[sa.ColumnElement[Any]],
    visible: list[Any],
) -> list[sa.ColumnElement[Any]]:
    """ORDER BY items of a select. A selected item is ordered by its label (with distinct
    or grouping, PostgreSQL accepts no other spelling of it, not even the same expression
    bound again), and its column is made binary-ordered in place."""
    order = []
    for item in parsed.order_by:
        key = scope.key(item.expression)
        if key in visible:
            index = visible.index(key)
            columns[index] = binary_order(columns[index])
            order.append(nulls_low(sa.literal_column(f"item_{index}"), item.descending))
        else:
            order.append(_order_item(scope, item, text))
    return order


def _order(scope: Scope, parsed: ast.Condition, text: str) -> list[sa.ColumnElement[Any]]:
    return [_order_item(scope, item, text) for item in parsed.order_by]


def _modifiers(
    statement: sa.Select[Any], parsed: ast.Condition, order: list[sa.ColumnElement[Any]]
) -> sa.Select[Any]:
    if parsed.distinct:
        statement = statement.distinct()
    if order:
        statement = statement.order_by(*order)
    if parsed.limit is not None:
        statement = statement.limit(parsed.limit)
    if parsed.offset is not None:
        statement = statement.offset(parsed.offset)
    return statement


def _assigned_value(
    scope: Scope, target: Bound, column: sa.ColumnElement[Any], text: str
) -> sa.ColumnElement[Any]:
    node = parse_expression(text)
    for ref in ast.attribute_refs(node):
        if scope.bind(ref.directory) is not target:
            raise QueryTypeError(
                f"an assignment can only use attributes of {target.directory.path}",
                text,
                ref.position,
            )
    return ExpressionCompiler(scope, text).assigned(node, column)


def _base_table(source: sa.FromClause) -> sa.TableClause:
    element = getattr(source, "element", source)
    if not isinstance(element, sa.TableClause):
        raise TypeError(f"new_alias() must return an alias of a table, not {source!r}")
    return element


def _selects_from(clause: sa.ColumnElement[Any], table: sa.TableClause) -> bool:
    """Whether a subquery in ``clause`` reads ``table`` through an alias (the table itself
    is correlated to the UPDATE's target, which every back-end accepts)."""
    for element in visitors.iterate(clause):
        if isinstance(element, sa.Select):
            for from_ in element.get_final_froms():
                for found in sql_util.find_tables(from_, include_aliases=True):
                    if isinstance(found, sa.Alias) and found.element is table:
                        return True
    return False


def _through_derived_table(
    resolver: Resolver,
    directory: str,
    parsed: ast.Condition,
    text: str,
    name_like: NameLike | None,
    target: Bound,
) -> sa.ColumnElement[bool]:
    """``name IN (SELECT name FROM (SELECT ... FROM <alias of the table> ...) AS matched)``:
    MariaDB materialises the derived table first, so it may read the updated table."""
    scope = Scope(resolver, directory)
    inner = scope.bind(None)
    where = _filter(scope, inner, parsed, text, name_like)
    inner_name = inner.directory.column(inner.source, ast.FILE_ATTRIBUTE)
    matched = (
        sa.select(inner_name.label("name"))
        .select_from(inner.source)
        .where(where)
        .subquery("matched")
    )
    name = target.directory.column(target.source, ast.FILE_ATTRIBUTE)
    return name.in_(sa.select(matched.c.name))
