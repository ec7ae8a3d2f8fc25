"""A pure-Python evaluation of conditions and selected items over in-memory rows.

It states the query language's semantics without SQL, so a property test can check that
the compiled SQL gives the same answer on every back-end (docs/query-language.md):
three-valued logic with NULL (None), literals typed after the operand they meet, real
division with NULL for division by zero, strings compared by code point, NULL sorting
below every value, aggregates skipping NULL, grouping by the selected non-aggregates.

Attributes are numbers (``int``, ``float``), strings (``str``) or dates and times
(``datetime.date``, ``datetime.datetime``, ``datetime.time``): these are compared and
ordered, and an ISO string literal they meet is that date or time (no arithmetic on them,
which the compiler refuses).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import ast
from .parser import parse_condition, parse_select_items
from .patterns import like_to_regex

Value = int | float | str | dt.date | dt.datetime | dt.time | None
Truth = bool | None
Env = Mapping[str, Mapping[str, Any]]  # directory path -> the current row of it
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@dataclass(frozen=True)
class Directory:
    path: str
    types: Mapping[str, type]  # attribute -> int, float, str, date, datetime, time; not FILE
    rows: Sequence[Mapping[str, Any]]  # each row holds "FILE" and the attributes


class Evaluator:
    def __init__(
        self,
        directories: Mapping[str, Directory],
        resolve: Callable[[str], str],
        default_directory: str,
    ) -> None:
        self._directories = directories
        self._resolve = resolve
        self._default = default_directory

    def path(self, ref: ast.AttributeRef) -> str:
        return self._resolve(self._default if ref.directory is None else ref.directory)

    def paths(self, nodes: Sequence[ast.Node]) -> list[str]:
        """The directories named, each once, in order of first mention."""
        found: list[str] = []
        for node in nodes:
            for ref in ast.attribute_refs(node):
                path = self.path(ref)
                if path not in found:
                    found.append(path)
        return found

    def environments(self, paths: Sequence[str]) -> Iterator[Env]:
        """Every combination of one row per directory: the implicit inner join."""
        row_sets = [self._directories[path].rows for path in paths]
        for combination in itertools.product(*row_sets):
            yield dict(zip(paths, combination, strict=True))

    # -- static kinds, for literal typing -------------------------------------------------
    def kind(self, node: ast.Node) -> str | None:
        if isinstance(node, ast.AttributeRef):
            if node.is_file:
                return "string"
            python_type = self._directories[self.path(node)].types[node.name]
            if python_type is str:
                return "string"
            return _TEMPORAL_KINDS.get(python_type, "number")
        if isinstance(node, ast.Literal):
            return None
        if isinstance(node, ast.Arithmetic | ast.Negate):
            return "number"
        if isinstance(node, ast.FunctionCall):
            if node.name in {"lower", "upper"}:
                return "string"
            if node.name in {"min", "max"}:
                return self.kind(node.arguments[0])
            return "number"
        raise TypeError(f"no value kind for {node!r}")

    # -- conditions -----------------------------------------------------------------------
    def truth(self, node: ast.Node, env: Env) -> Truth:
        if isinstance(node, ast.BoolOp):
            results = [self.truth(operand, env) for operand in node.operands]
            if node.operator == "and":
                return False if False in results else None if None in results else True
            return True if True in results else None if None in results else False
        if isinstance(node, ast.Not):
            result = self.truth(node.operand, env)
            return None if result is None else not result
        if isinstance(node, ast.Comparison):
            left, right = self.pair(node.left, node.right, env)
            if left is None or right is None:
                return None
            return _compare(node.operator, left, right)
        if isinstance(node, ast.InList):
            return self._in_list(node, env)
        if isinstance(node, ast.IsNull):
            return (self.value(node.operand, env) is None) != node.negated
        if isinstance(node, ast.Like):
            operand = self.value(node.operand, env)
            if operand is None:
                return None
            assert isinstance(node.pattern, ast.Literal)
            matched = like_to_regex(str(node.pattern.value)).fullmatch(str(operand)) is not None
            return matched != node.negated
        raise TypeError(f"not a condition: {node!r}")

    def _in_list(self, node: ast.InList, env: Env) -> Truth:
        # As compiled: a literal operand takes the type of the first non-literal item, and
        # every literal item takes the operand's type.
        anchor = next((n for n in (node.operand, *node.items) if not _is_literal(n)), None)
        anchor_kind = None if anchor is None else self.kind(anchor)
        operand = self._meeting(node.operand, anchor_kind, env)
        operand_kind: str | None
        if _is_literal(node.operand):
            operand_kind = anchor_kind or ("string" if isinstance(operand, str) else "number")
        else:
            operand_kind = self.kind(node.operand)
        results: list[Truth] = []
        for item in node.items:
            value = self._meeting(item, operand_kind, env)
            results.append(None if operand is None or value is None else operand == value)
        found = True if True in results else None if None in results else False
        return None if found is None else found != node.negated

    # -- values ---------------------------------------------------------------------------
    def value(self, node: ast.Node, env: Env) -> Value:
        if isinstance(node, ast.AttributeRef):
            row = env[self.path(node)]
            return row[ast.FILE_ATTRIBUTE if node.is_file else node.name]
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Negate):
            operand = self._meeting(node.operand, "number", env)
            return None if operand is None else -_number(operand)
        if isinstance(node, ast.Arithmetic):
            left, right = self.pair(node.left, node.right, env)
            if left is None or right is None:
                return None
            left, right = _number(left), _number(right)
            if node.operator == "/":
                return None if right == 0 else float(left) / float(right)
            return _ARITHMETIC[node.operator](left, right)
        if isinstance(node, ast.FunctionCall) and node.name in {"lower", "upper"}:
            argument = self.value(node.arguments[0], env)
            if argument is None:
                return None
            return str(argument).lower() if node.name == "lower" else str(argument).upper()
        raise TypeError(f"not a row value: {node!r}")

    def pair(self, left: ast.Node, right: ast.Node, env: Env) -> tuple[Value, Value]:
        left_kind = None if isinstance(left, ast.Literal) else self.kind(left)
        right_kind = None if isinstance(right, ast.Literal) else self.kind(right)
        if isinstance(left, ast.Literal) and isinstance(right, ast.Literal):
            if isinstance(left.value, str) != isinstance(right.value, str):
                left_kind = right_kind = "number"
        kinds = {left_kind, right_kind}
        if "time" in kinds and kinds & {"date", "timestamp"}:
            raise TypeError("a time of day is compared with no date or timestamp")
        left_value = self._meeting(left, right_kind, env)
        right_value = self._meeting(right, left_kind, env)
        if kinds == {"date", "timestamp"}:  # the date is that day at midnight (SQL's rule)
            left_value, right_value = _midnight(left_value), _midnight(right_value)
        return left_value, right_value

    def _meeting(self, node: ast.Node, target: str | None, env: Env) -> Value:
        if not isinstance(node, ast.Literal):
            return self.value(node, env)
        value = node.value
        if target in _ISO_PARSERS:
            if not isinstance(value, str):
                raise TypeError(f"a {target} is met by a quoted ISO string, not {value!r}")
            return _ISO_PARSERS[target](value.strip())
        if target == "string":
            return value if isinstance(value, str) else repr(value)
        if target == "number" or (target is None and not isinstance(value, str)):
            return _number(value)
        return value

    # -- aggregates -----------------------------------------------------------------------
    def aggregate(self, node: ast.Node, group: Sequence[Env]) -> Value:
        if isinstance(node, ast.FunctionCall) and node.is_aggregate:
            values = [self.value(node.arguments[0], env) for env in group]
            present = [value for value in values if value is not None]
            if node.name == "count":
                return len(present)
            if not present:
                return None
            if node.name == "min":
                return min(present)
            if node.name == "max":
                return max(present)
            numbers = [_number(value) for value in present]
            if node.name == "avg":
                return math.fsum(numbers) / len(numbers)
            return sum(numbers) if all(isinstance(n, int) for n in numbers) else math.fsum(numbers)
        # a grouped item: the same in every row of the group
        return self.value(node, group[0])


def evaluate_select(
    items: Sequence[str],
    condition: str,
    directories: Mapping[str, Directory],
    resolve: Callable[[str], str],
    *,
    default_directory: str = ".",
) -> list[tuple[Value, ...]]:
    """The rows ``compile_select(items, condition, ...)`` must return (in order when the
    condition orders them)."""
    nodes = parse_select_items(items)
    parsed = parse_condition(condition)
    evaluator = Evaluator(directories, resolve, default_directory)
    mentioned = [*nodes, *parsed.children()]
    matches = [
        env
        for env in evaluator.environments(evaluator.paths(mentioned))
        if parsed.where is None or evaluator.truth(parsed.where, env) is True
    ]
    if any(_has_aggregate(node) for node in nodes):
        keyed = _grouped_rows(evaluator, parsed, nodes, matches)
    else:
        keyed = [
            (
                tuple(evaluator.value(node, env) for node in nodes),
                _sort_key(parsed, nodes, None, evaluator, env),
            )
            for env in matches
        ]
    if parsed.distinct:
        first_keys: dict[tuple[Value, ...], tuple[Any, ...]] = {}
        for row, key in keyed:
            first_keys.setdefault(row, key)
        keyed = list(first_keys.items())
    keyed.sort(key=lambda pair: pair[1])  # stable: no order by keeps the join's order
    return _window(parsed, [row for row, _ in keyed])


def _grouped_rows(
    evaluator: Evaluator, parsed: ast.Condition, nodes: Sequence[ast.Node], matches: list[Env]
) -> list[tuple[tuple[Value, ...], tuple[Any, ...]]]:
    """One row per group of equal plain items (NULLs group together); one row in all when
    only aggregates are selected, even over no rows."""
    plain = [node for node in nodes if not _has_aggregate(node)]
    groups: dict[tuple[Value, ...], list[Env]] = {}
    for env in matches:
        groups.setdefault(tuple(evaluator.value(n, env) for n in plain), []).append(env)
    if not plain and not groups:
        groups[()] = []
    keyed = []
    for group in groups.values():
        row = tuple(evaluator.aggregate(n, group) if group else _empty(n) for n in nodes)
        keyed.append((row, _sort_key(parsed, nodes, row, evaluator, None)))
    return keyed


def _window(parsed: ast.Condition, rows: list[Any]) -> list[Any]:
    start = parsed.offset or 0
    end = None if parsed.limit is None else start + parsed.limit
    return rows[start:end]


def evaluate_find(
    directory: str,
    condition: str,
    directories: Mapping[str, Directory],
    resolve: Callable[[str], str],
) -> list[str]:
    """The entry names ``compile_find(directory, condition, ...)`` must return (each once)."""
    parsed = parse_condition(condition)
    evaluator = Evaluator(directories, resolve, directory)
    target = resolve(directory)
    others = [path for path in evaluator.paths(parsed.children()) if path != target]
    matching = []
    for row in directories[target].rows:
        for env in evaluator.environments(others):
            combined = {**env, target: row}
            if parsed.where is None or evaluator.truth(parsed.where, combined) is True:
                matching.append(row)
                break
    matching.sort(key=lambda row: _sort_key(parsed, (), None, evaluator, {target: row}))
    return [row[ast.FILE_ATTRIBUTE] for row in _window(parsed, matching)]


# -- helpers ------------------------------------------------------------------------------

_TEMPORAL_KINDS = {dt.date: "date", dt.datetime: "timestamp", dt.time: "time"}
_ISO_PARSERS: dict[str, Callable[[str], Value]] = {
    "date": dt.date.fromisoformat,
    "timestamp": dt.datetime.fromisoformat,
    "time": dt.time.fromisoformat,
}


def _is_literal(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal)


def _has_aggregate(node: ast.Node) -> bool:
    return any(isinstance(n, ast.FunctionCall) and n.is_aggregate for n in ast.walk(node))


def _empty(node: ast.Node) -> Value:
    return 0 if isinstance(node, ast.FunctionCall) and node.name == "count" else None


def _sort_key(
    parsed: ast.Condition,
    nodes: Sequence[ast.Node],
    row: tuple[Value, ...] | None,
    evaluator: Evaluator,
    env: Env | None,
) -> tuple[Any, ...]:
    """NULL lowest; descending inverts; selected items are read from the output row."""
    key = []
    for item in parsed.order_by:
        if row is not None:
            value = row[nodes.index(item.expression)]
        else:
            assert env is not None
            value = evaluator.value(item.expression, env)
        key.append(_Ordered(value, item.descending))
    return tuple(key)


class _Ordered:
    __slots__ = ("value", "descending")

    def __init__(self, value: Value, descending: bool) -> None:
        self.value = value
        self.descending = descending

    def __lt__(self, other: _Ordered) -> bool:
        a, b = (other.value, self.value) if self.descending else (self.value, other.value)
        if a is None or b is None:
            return a is None and b is not None
        return a < b  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ordered) and self.value == other.value


def _number(value: Value) -> int | float:
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str):  # the compiler refuses arithmetic on other kinds
        raise TypeError(f"not a number: {value!r}")
    try:
        return int(value.strip())
    except ValueError:
        return float(Decimal(value.strip()))


def _midnight(value: Value) -> Value:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "=":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)
