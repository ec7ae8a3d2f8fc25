"""Clause helpers shared by the statement translators: argument whitelists, FROM and joins,
select lists, LIMIT/OFFSET values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from bookkeeping.jdbc_compat.conditions import parameter
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.schema import CatalogueSchema
from bookkeeping.jdbc_compat.scope import Scope, unsupported

_IGNORED_FLAGS = {"big_int"}  # sqlglot bookkeeping, not SQL


def reject_unknown_args(node: exp.Expr, allowed: Iterable[str], context: str) -> None:
    """NotSupportedError for any clause of ``node`` outside ``allowed`` (HAVING, WITH, ...)."""
    allowed = set(allowed) | _IGNORED_FLAGS
    for key, value in node.args.items():
        if key in allowed or value is None or value is False or value == []:
            continue
        shown = key.rstrip("_").upper()
        if isinstance(value, exp.Expression):
            raise NotSupportedError(f"{shown} is not supported in {context}: {value.sql()}")
        raise NotSupportedError(f"{shown} is not supported in {context}")


def conjuncts_of(condition: exp.Expr) -> list[exp.Expr]:
    """The terms of a top-level AND chain (parentheses around the chain are transparent)."""
    if isinstance(condition, exp.Paren):
        return conjuncts_of(condition.this)
    if isinstance(condition, exp.And):
        return conjuncts_of(condition.left) + conjuncts_of(condition.right)
    return [condition]


@dataclass(frozen=True)
class JoinStep:
    """The JOIN that brings in ``scope.sources[index]``."""

    index: int
    outer: bool  # LEFT [OUTER] JOIN
    on: list[exp.Expr]


def from_scope(node: exp.Select, schema: CatalogueSchema) -> tuple[Scope, list[JoinStep]]:
    """The tables of FROM and JOIN, and each join's kind and ON terms."""
    from_ = node.args.get("from_")
    if from_ is None:
        raise NotSupportedError("SELECT without FROM: the catalogue answers queries over tables")
    reject_unknown_args(from_, {"this"}, "FROM")
    tables: list[exp.Expr] = [from_.this]
    steps: list[JoinStep] = []
    for join in node.args.get("joins") or []:
        side, kind = (join.args.get("side") or "").upper(), (join.args.get("kind") or "").upper()
        outer = side == "LEFT" and kind in {"", "OUTER"}
        if not outer and (side or kind not in {"", "INNER", "CROSS"}):
            raise NotSupportedError(
                f"{' '.join(p for p in (side, kind) if p)} JOIN is not supported "
                "(inner, cross and left joins are)"
            )
        reject_unknown_args(join, {"this", "on", "kind", "side"}, "JOIN")
        tables.append(join.this)
        on = join.args.get("on")
        steps.append(JoinStep(len(tables) - 1, outer, conjuncts_of(on) if on is not None else []))
    for table in tables:
        if not isinstance(table, exp.Table):
            raise unsupported(table, "FROM")
    return Scope(schema, tables), steps


def select_items(
    expressions: Sequence[exp.Expr], scope: Scope
) -> list[tuple[exp.Expr, str, str | None]]:
    """(expression, result column name, alias) per item, ``*`` and ``t.*`` expanded."""
    items: list[tuple[exp.Expr, str, str | None]] = []
    for expression in expressions:
        star_table = _star_table(expression)
        if star_table is not None:
            source_names = [star_table] if star_table else [s.name for s in scope.sources]
            for source_name in source_names:
                source = scope.source(source_name)
                for name, _type in source.attributes:
                    column = exp.column(name, table=source.name, quoted=True)
                    items.append((column, name, None))
            continue
        if isinstance(expression, exp.Alias):
            alias = expression.alias
            items.append((expression.this, alias, alias))
        elif isinstance(expression, exp.Column):
            items.append((expression, expression.name, None))
        else:
            items.append((expression, expression.sql(dialect="sqlite"), None))
    return items


def _star_table(expression: exp.Expr) -> str | None:
    """'' for ``*``, the table for ``t.*``, None for anything else."""
    if isinstance(expression, exp.Star):
        return ""
    if isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star):
        return expression.table
    return None


def bound(node: exp.Expr | None, params: Sequence[object], clause: str) -> int | None:
    """The value of LIMIT/OFFSET: a non-negative integer literal or parameter (a negative
    LIMIT means none)."""
    if node is None:
        return None
    reject_unknown_args(node, {"expression", "this"}, clause)
    value_node = node.args.get("expression") or node.this
    if isinstance(value_node, exp.Placeholder):
        value = parameter(value_node, params)
    elif isinstance(value_node, exp.Literal) and not value_node.is_string:
        value = value_node.this
    elif (
        isinstance(value_node, exp.Neg)
        and isinstance(value_node.this, exp.Literal)
        and not value_node.this.is_string
    ):
        value = "-" + value_node.this.this
    else:
        raise unsupported(value_node, clause)
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ProgrammingError(f"{clause} needs an integer, got {value!r}") from None
    if clause == "LIMIT" and number < 0 and not isinstance(value, float | bool):
        # SQLite's meaning (the dialect we parse): no limit. SQLAlchemy writes an OFFSET
        # without a LIMIT as LIMIT -1 OFFSET n.
        return None
    if isinstance(value, float | bool) or number < 0:
        raise ProgrammingError(f"{clause} needs a non-negative integer, got {value!r}")
    return number


# Collations that order text by code point (UTF-8 bytes compare in code point order), as
# the catalogue and Python always do. The warehouse orders by one of these on PostgreSQL and
# MariaDB, so that every back-end sorts alike.
BINARY_COLLATIONS = frozenset({"binary", "c", "posix", "utf8mb4_bin", "utf8_bin"})


def binary_collation(node: exp.Collate) -> exp.Expr:
    """The ordered expression of ``x COLLATE <binary collation>``; other collations would
    order differently and are refused."""
    reject_unknown_args(node, {"this", "expression"}, "COLLATE")
    collation = node.expression
    name = collation.name if isinstance(collation, exp.Identifier | exp.Var) else None
    if name is None or name.lower() not in BINARY_COLLATIONS:
        raise NotSupportedError(
            f"COLLATE {collation.sql()}: only binary (code point) collations are supported "
            f"({', '.join(sorted(BINARY_COLLATIONS))})"
        )
    return node.this
