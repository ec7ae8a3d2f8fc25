"""Translating AST expressions into SQLAlchemy Core expressions.

Every directory named becomes one FROM element (``Scope``); every literal becomes a bound
parameter typed after what it meets: compared with a varchar attribute, 5 binds as "5";
compared with an int attribute, "5" binds as 5; compared with a date, "2024-01-31" binds as
a date. So one condition means the same on every back-end (PostgreSQL refuses varchar = int).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from . import ast
from .constructs import (
    CheckedInteger,
    binary_match,
    binary_order,
    case_sensitive_like,
    checked_integer,
    checked_sum,
    date_as_timestamp,
    double_parameter,
    to_double,
)
from .errors import QueryTypeError
from .patterns import canonical_like
from .protocols import ResolvedDirectory, Resolver

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_ORDERING = frozenset({"<", ">", "<=", ">="})
_NUMBER = sa.Numeric()  # the type literals take in arithmetic
_DIVISION_PRECEDENCE = 8  # SQLAlchemy's own precedence of "/": parenthesised like it


@dataclasses.dataclass(frozen=True)
class Bound:
    """A directory taking part in a statement and its FROM element."""

    directory: ResolvedDirectory
    source: sa.FromClause


class Scope:
    """The directories of one statement: each distinct directory resolved once and given
    one FROM element, in order of first mention. Bare attributes belong to ``default``."""

    def __init__(
        self,
        resolver: Resolver,
        default: str,
        *,
        target: Bound | None = None,
    ) -> None:
        """``target``: the default directory already resolved, with its FROM element (for
        UPDATE, its table itself)."""
        self._resolver = resolver
        self._default = default
        self._by_raw: dict[str, Bound] = {}
        self._by_path: dict[str, Bound] = {}
        self.bound: list[Bound] = []
        if target is not None:
            self._add(default, target)

    def bind(self, raw: str | None) -> Bound:
        raw = self._default if raw is None else raw
        known = self._by_raw.get(raw)
        if known is not None:
            return known
        directory = self._resolver.directory(raw)
        known = self._by_path.get(directory.path)
        if known is None:
            known = Bound(directory, directory.new_alias())
        self._add(raw, known)
        return known

    def _add(self, raw: str, bound: Bound) -> None:
        self._by_raw[raw] = bound
        if bound.directory.path not in self._by_path:
            self._by_path[bound.directory.path] = bound
            self.bound.append(bound)

    def path_of(self, ref: ast.AttributeRef) -> str:
        return self.bind(ref.directory).directory.path

    def key(self, node: ast.Node) -> Hashable:
        """A structural key of ``node`` in which two spellings of one attribute are equal."""
        if isinstance(node, ast.AttributeRef):
            name = ast.FILE_ATTRIBUTE if node.is_file else node.name
            return ("ref", self.path_of(node), name)
        if isinstance(node, ast.Literal):
            return ("literal", type(node.value).__name__, node.value)
        parts: list[Hashable] = [type(node).__name__]
        for field in dataclasses.fields(node):
            if field.name == "position":
                continue
            value = getattr(node, field.name)
            if isinstance(value, ast.Node):
                parts.append(self.key(value))
            elif isinstance(value, tuple):
                parts.append(tuple(self.key(item) for item in value))
            else:
                parts.append(value)
        return tuple(parts)

    def from_clause(self) -> sa.FromClause | None:
        """All FROM elements as one inner join; the condition (in WHERE) is what links
        them, so each join's own ON is just 1 = 1."""
        if not self.bound:
            return None
        joined = self.bound[0].source
        for bound in self.bound[1:]:
            joined = sa.join(joined, bound.source, always_true())
        return joined

    def read_filters(self, bounds: list[Bound] | None = None) -> list[sa.ColumnElement[bool]]:
        filters = []
        for bound in self.bound if bounds is None else bounds:
            clause = bound.directory.read_filter(bound.source)
            if clause is not None:
                filters.append(clause)
        return filters


def always_true() -> sa.ColumnElement[bool]:
    """1 = 1: true on every back-end, also where booleans are not values (Oracle's ON)."""
    return sa.literal_column("1") == sa.literal_column("1")


def kind_of(type_: sa.types.TypeEngine[Any]) -> str:
    """'number', 'string', 'temporal' or 'other' (unknown: no checks, no coercion)."""
    if isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.Integer | sa.Numeric | sa.Float):  # Float: not Numeric in 2.1
        return "number"
    if isinstance(type_, sa.String):
        return "string"
    if isinstance(type_, sa.Date | sa.DateTime | sa.Time):
        return "temporal"
    return "other"


def _temporal_name(type_: sa.types.TypeEngine[Any]) -> str:
    if isinstance(type_, sa.DateTime):
        return "timestamp"
    return "date" if isinstance(type_, sa.Date) else "time"


def _same_temporal(
    value: sa.ColumnElement[Any], other: sa.ColumnElement[Any]
) -> sa.ColumnElement[Any]:
    """A date compared with a timestamp is that day at midnight (on every back-end)."""
    if (
        isinstance(value.type, sa.Date)
        and not isinstance(value.type, sa.DateTime)
        and isinstance(other.type, sa.DateTime)
    ):
        return date_as_timestamp(value)
    return value


def _unchecked(value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return value.element if isinstance(value, CheckedInteger) else value


def _is_integer(type_: sa.types.TypeEngine[Any]) -> bool:
    if isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, sa.Integer)


class ExpressionCompiler:
    """Compiles the nodes parsed from one text (``text`` is quoted in type errors)."""

    def __init__(self, scope: Scope, text: str) -> None:
        self.scope = scope
        self.text = text

    def fail(self, message: str, node: ast.Node) -> QueryTypeError:
        return QueryTypeError(message, self.text, node.position)

    # -- conditions ---------------------------------------------------------------------
    def condition(self, node: ast.Node) -> sa.ColumnElement[bool]:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(operand) for operand in node.operands]
            return sa.and_(*parts) if node.operator == "and" else sa.or_(*parts)
        if isinstance(node, ast.Not):
            return sa.not_(self.condition(node.operand))
        if isinstance(node, ast.Comparison):
            left, right = self.pair(node.left, node.right, node)
            collate = binary_order if node.operator in _ORDERING else binary_match
            left, right = collate(left), collate(right)
            return _COMPARE[node.operator](left, right)
        if isinstance(node, ast.InList):
            return self._in_list(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.IsNull):
            operand = self.value(node.operand)
            return operand.is_not(None) if node.negated else operand.is_(None)
        raise self.fail("expected a condition, found a value", node)

    def _in_list(self, node: ast.InList) -> sa.ColumnElement[bool]:
        # A literal operand takes the type of the first non-literal item; literal items
        # take the operand's type.
        operand = self._unless_literal(node.operand)
        values = [self._unless_literal(item) for item in node.items]
        if operand is None:
            anchor = next((value for value in values if value is not None), None)
            operand = self._typed_literal(node.operand, anchor)
        items = [
            value if value is not None else self._typed_literal(item, operand)
            for item, value in zip(node.items, values, strict=True)
        ]
        for item in items:
            self._check_comparable(operand, item, node)
        clause = binary_match(operand).in_(items)
        return sa.not_(clause) if node.negated else clause

    def _like(self, node: ast.Like) -> sa.ColumnElement[bool]:
        pattern = node.pattern
        if not isinstance(pattern, ast.Literal):
            raise self.fail("the pattern of like must be a string literal", pattern)
        operand = self.value(node.operand)
        if kind_of(operand.type) != "string":
            operand = sa.cast(operand, sa.String)
        return case_sensitive_like(operand, canonical_like(str(pattern.value)), node.negated)

    # -- values -------------------------------------------------------------------------
    def value(self, node: ast.Node) -> sa.ColumnElement[Any]:
        if isinstance(node, ast.AttributeRef):
            bound = self.scope.bind(node.directory)
            name = ast.FILE_ATTRIBUTE if node.is_file else node.name
            return bound.directory.column(bound.source, name)
        if isinstance(node, ast.Literal):
            return self._literal(node.value, None, node)
        if isinstance(node, ast.Negate):
            return -self._number(node.operand)
        if isinstance(node, ast.Arithmetic):
            return self._arithmetic(node)
        if isinstance(node, ast.FunctionCall):
            return self._function(node)
        raise self.fail("a condition cannot be used as a value here", node)

    def _arithmetic(self, node: ast.Arithmetic) -> sa.ColumnElement[Any]:
        left, right = self._number(node.left), self._number(node.right)
        if node.operator == "/":
            # Always real division, and NULL (not an error) when dividing by zero.
            divisor = sa.func.nullif(to_double(right), 0.0, type_=sa.Double)
            return to_double(left).op("/", precedence=_DIVISION_PRECEDENCE, return_type=sa.Double)(
                divisor
            )
        operation = {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.operator]
        if _is_integer(left.type) and _is_integer(right.type):
            # Checked once, outermost: an inner overflow on SQLite is a REAL that stays one
            # (and checking every level would render the inner levels exponentially often).
            left, right = _unchecked(left), _unchecked(right)
            return checked_integer(operation(left, right))  # an overflow fails everywhere
        return operation(left, right)

    def _function(self, node: ast.FunctionCall) -> sa.ColumnElement[Any]:
        (argument_node,) = node.arguments
        argument = self.value(argument_node)
        kind = kind_of(argument.type)
        if node.name in {"lower", "upper"}:
            if kind not in {"string", "other"}:
                raise self.fail(f"{node.name}() needs a string, not a {kind}", argument_node)
            return getattr(sa.func, node.name)(argument, type_=argument.type)
        if node.name == "count":
            return sa.func.count(argument, type_=sa.BigInteger)
        if node.name in {"min", "max"}:
            return getattr(sa.func, node.name)(binary_order(argument), type_=argument.type)
        if kind not in {"number", "other"}:
            raise self.fail(f"{node.name}() needs numbers, not a {kind}", argument_node)
        if node.name == "avg":
            return sa.func.avg(to_double(argument), type_=sa.Double)
        if _is_integer(argument.type):  # sum: whole numbers stay whole on every back-end
            return checked_sum(argument)  # or an overflow error, on every back-end
        return sa.func.sum(argument, type_=argument.type)

    # -- literals meeting other operands ---------------------------------------------------
    def pair(
        self, left: ast.Node, right: ast.Node, context: ast.Node
    ) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
        """Both operands of a comparison, a literal typed after the other operand."""
        left_value, right_value = self._unless_literal(left), self._unless_literal(right)
        if left_value is None and right_value is None:
            assert isinstance(left, ast.Literal) and isinstance(right, ast.Literal)
            if isinstance(left.value, str) != isinstance(right.value, str):
                # two literals, a string and a number: compared as numbers
                return self._number(left), self._number(right)
            left_value = self._literal(left.value, None, left)
        if left_value is None:
            left_value = self._typed_literal(left, right_value)
        if right_value is None:
            right_value = self._typed_literal(right, left_value)
        self._check_comparable(left_value, right_value, context)
        return _same_temporal(left_value, right_value), _same_temporal(right_value, left_value)

    def assigned(self, node: ast.Node, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """The value of an assignment to ``column``: a literal takes its type; an integer
        column gets non-integer expressions cast (rounding is then the back-end's)."""
        if isinstance(node, ast.Literal):
            return self._literal(node.value, column.type, node)
        value = self.value(node)
        self._check_comparable(column, value, node)
        if _is_integer(column.type) and not _is_integer(value.type):
            return sa.cast(value, column.type)
        return value

    def _unless_literal(self, node: ast.Node) -> sa.ColumnElement[Any] | None:
        return None if isinstance(node, ast.Literal) else self.value(node)

    def _typed_literal(
        self, node: ast.Node, other: sa.ColumnElement[Any] | None
    ) -> sa.ColumnElement[Any]:
        assert isinstance(node, ast.Literal)
        return self._literal(node.value, None if other is None else other.type, node)

    def _number(self, node: ast.Node) -> sa.ColumnElement[Any]:
        """An operand of arithmetic: a number; a string literal there is read as one."""
        if isinstance(node, ast.Literal):
            return self._literal(node.value, _NUMBER, node)
        value = self.value(node)
        kind = kind_of(value.type)
        if kind not in {"number", "other"}:
            raise self.fail(f"arithmetic needs numbers, not a {kind}", node)
        return value

    def _check_comparable(
        self, left: sa.ColumnElement[Any], right: sa.ColumnElement[Any], context: ast.Node
    ) -> None:
        kinds = {kind_of(left.type), kind_of(right.type)} - {"other"}
        if len(kinds) > 1:
            first, second = sorted(kinds)
            raise self.fail(f"cannot compare a {first} with a {second}", context)
        if kinds == {"temporal"}:
            temporal = {_temporal_name(left.type), _temporal_name(right.type)}
            if "time" in temporal and len(temporal) > 1:
                # PostgreSQL has no such comparison; none is defined on any back-end.
                other = (temporal - {"time"}).pop()
                raise self.fail(f"cannot compare a time of day with a {other}", context)

    def _literal(
        self,
        value: int | float | str,
        target: sa.types.TypeEngine[Any] | None,
        node: ast.Node,
    ) -> sa.ColumnElement[Any]:
        kind = "other" if target is None else kind_of(target)
        if kind == "string":
            text = value if isinstance(value, str) else repr(value)
            return sa.bindparam(None, text, type_=target)
        if kind == "number" or (kind == "other" and not isinstance(value, str)):
            number = self._as_number(value, node)
            if isinstance(number, int):
                return sa.bindparam(None, number, type_=sa.BigInteger())
            return double_parameter(number)
        if kind == "temporal":
            assert target is not None
            return sa.bindparam(None, self._as_temporal(value, target, node), type_=target)
        return sa.bindparam(None, value, type_=sa.String())

    def _as_number(self, value: int | float | str, node: ast.Node) -> int | float:
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            whole = int(text)
        except ValueError:
            pass
        else:
            # As a number literal: a string beyond 64 bits reached SQLite's driver as an
            # OverflowError (an internal error) and PostgreSQL's as a different one.
            if not -(2**63) <= whole <= 2**63 - 1:
                raise self.fail(f"{_short(value)!r}: integer out of range (at most 2**63-1)", node)
            return whole
        try:
            number = float(Decimal(text))
        except ArithmeticError:
            raise self.fail(f"{_short(value)!r} is not a number", node) from None
        if number != number or number in {float("inf"), float("-inf")}:
            raise self.fail(f"{_short(value)!r} is not a finite number", node)
        return number

    def _as_temporal(
        self, value: int | float | str, target: sa.types.TypeEngine[Any], node: ast.Node
    ) -> dt.date | dt.datetime | dt.time:
        if isinstance(target, sa.types.TypeDecorator):
            target = target.impl_instance
        parse: Callable[[str], dt.date | dt.datetime | dt.time]
        if isinstance(target, sa.DateTime):
            parse, what = dt.datetime.fromisoformat, "timestamp"
        elif isinstance(target, sa.Date):
            parse, what = dt.date.fromisoformat, "date"
        else:
            parse, what = dt.time.fromisoformat, "time"
        if not isinstance(value, str):
            raise self.fail(f"expected a {what} (a quoted ISO string), found {value!r}", node)
        try:
            return parse(value.strip())
        except ValueError:
            raise self.fail(f"{value!r} is not a {what} (ISO 8601 expected)", node) from None


def _short(text: str, limit: int = 40) -> str:
    """A value quoted in a message, cut short (a literal may be thousands of digits)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
