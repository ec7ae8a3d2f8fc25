"""Python evaluation of SQL expressions over fetched rows, for what the query language
cannot say (IS [NOT] NULL, comparisons with NULL, GROUP BY). SQL's three-valued logic holds:
``None`` is UNKNOWN. A literal compared with a column is first converted to the column's
type, as the catalogue's query compiler does."""

from __future__ import annotations

import datetime
import decimal
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from bookkeeping.jdbc_compat.conditions import ARITHMETIC, COMPARISONS, parameter
from bookkeeping.jdbc_compat.exceptions import DataError, NotSupportedError
from bookkeeping.jdbc_compat.scope import ResolvedColumn, check_args, unsupported
from bookkeeping.jdbc_compat.types import base_type

Row = Sequence[Any]
Evaluator = Callable[[Row], Any]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def coerce(value: Any, type_code: str) -> Any:
    """Convert a literal to a column's catalogue type (strings from SQL text, mostly)."""
    if value is None:
        return None
    kind = base_type(type_code)
    try:
        if kind in {"int", "integer", "bigint", "smallint"}:
            return int(value) if not isinstance(value, bool) else int(value)
        if kind in {"float", "double"}:
            return float(value)
        if kind in {"numeric", "decimal"}:
            return decimal.Decimal(str(value))
        if kind == "timestamp" and isinstance(value, str):
            return datetime.datetime.fromisoformat(value)
        if kind == "date" and isinstance(value, str):
            return datetime.date.fromisoformat(value)
        if kind == "time" and isinstance(value, str):
            return datetime.time.fromisoformat(value)
    except (ValueError, decimal.InvalidOperation) as exc:
        raise DataError(f"value {value!r} is not a valid {type_code}") from exc
    if kind in {"varchar", "varchar2", "char", "text", "entry"} and not isinstance(value, str):
        return str(value)
    return value


def _to_integer(value: Any) -> int:
    """CAST(... AS INTEGER): whole numbers and their text; a fraction is truncated."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return int(decimal.Decimal(text))
    return int(value)


def like_matcher(pattern: str, escape: str | None = None) -> re.Pattern[str]:
    """SQL LIKE: ``%`` any run, ``_`` one character, case-sensitive; after the ESCAPE
    character, the next character stands for itself."""
    parts = []
    literal = False
    for char in pattern:
        if literal:
            parts.append(re.escape(char))
            literal = False
        elif escape is not None and char == escape:
            literal = True
        else:
            parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    if literal:
        raise DataError(f"LIKE pattern {pattern!r} ends with its escape character")
    return re.compile("".join(parts), re.DOTALL)


def _and(values: list[Any]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Any]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


class PythonCompiler:
    """Compiles an expression to a function of a fetched row (``slot`` gives a column's
    position in that row)."""

    def __init__(
        self,
        resolve: Callable[[exp.Column], ResolvedColumn],
        slot: Callable[[ResolvedColumn], int],
        params: Sequence[object],
        aggregate: Callable[[exp.AggFunc], Evaluator] | None = None,
        subquery: Callable[[exp.Exists, PythonCompiler], Evaluator] | None = None,
    ) -> None:
        self.resolve = resolve
        self.slot = slot
        self.params = params
        # Inside a grouped expression (COALESCE(SUM(x), 0)): how an aggregate is read.
        self.aggregate = aggregate
        # How an EXISTS subquery is tested (a semi-join the statement reads first); None
        # where a statement cannot read one (UPDATE, DELETE).
        self.subquery = subquery

    def compile(self, node: exp.Expression) -> Evaluator:  # noqa: C901 - one branch per node
        if isinstance(node, exp.AggFunc) and self.aggregate is not None:
            return self.aggregate(node)  # its arguments are checked where it is compiled
        check_args(node)
        if isinstance(node, exp.Exists):
            if self.subquery is None:
                raise unsupported(node)
            return self.subquery(node, self)
        if isinstance(node, exp.Column):
            index = self.slot(self.resolve(node))
            return lambda row: row[index]
        if isinstance(node, exp.Literal | exp.Placeholder | exp.Null | exp.Boolean):
            value = self._constant(node)
            return lambda row: value
        if isinstance(node, exp.Paren):
            return self.compile(node.this)
        if isinstance(node, exp.And | exp.Or):
            left, right = self.compile(node.left), self.compile(node.right)
            combine = _and if isinstance(node, exp.And) else _or
            return lambda row: combine([left(row), right(row)])
        if isinstance(node, exp.Not):
            inner = self.compile(node.this)
            return lambda row: None if (v := inner(row)) is None else not v
        if type(node) in COMPARISONS:
            return self._comparison(COMPARISONS[type(node)], node.left, node.right)
        if isinstance(node, exp.Between):
            low = self._comparison(">=", node.this, node.args["low"])
            high = self._comparison("<=", node.this, node.args["high"])
            return lambda row: _and([low(row), high(row)])
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise unsupported(node)
            inner = self.compile(node.this)
            return lambda row: inner(row) is None
        if isinstance(node, exp.Like):
            return self._like(node)
        if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
            escape = node.expression
            if not (isinstance(escape, exp.Literal) and escape.is_string and len(escape.this) == 1):
                raise unsupported(node)
            check_args(node.this)
            return self._like(node.this, escape.this)
        if isinstance(node, exp.DPipe):
            left, right = self.compile(node.left), self.compile(node.right)

            def concatenate(row: Row) -> str | None:
                a, b = left(row), right(row)
                return None if a is None or b is None else f"{a}{b}"

            return concatenate
        if type(node) in ARITHMETIC:
            return self._arithmetic(ARITHMETIC[type(node)], node)
        if isinstance(node, exp.Neg):
            inner = self.compile(node.this)
            return lambda row: None if (v := inner(row)) is None else -v
        if isinstance(node, exp.Lower | exp.Upper):
            inner = self.compile(node.this)
            method = str.lower if isinstance(node, exp.Lower) else str.upper
            return lambda row: None if (v := inner(row)) is None else method(v)
        if isinstance(node, exp.Cast):
            return self._cast(node)
        if isinstance(node, exp.Coalesce):
            parts = [self.compile(part) for part in [node.this, *node.expressions]]
            return lambda row: next((v for part in parts if (v := part(row)) is not None), None)
        if isinstance(node, exp.Case):
            return self._case(node)
        raise unsupported(node)

    def _cast(self, node: exp.Cast) -> Evaluator:
        from bookkeeping.jdbc_compat.ddl import catalogue_type

        inner = self.compile(node.this)
        kind = base_type(catalogue_type(node.args["to"]))
        convert: Callable[[Any], Any]
        if kind in {"int", "bigint", "smallint"}:
            convert = _to_integer
        elif kind in {"float", "double"}:
            convert = float
        elif kind == "numeric":
            convert = lambda v: decimal.Decimal(str(v))  # noqa: E731
        elif kind in {"varchar", "text"}:
            convert = lambda v: v if isinstance(v, str) else str(v)  # noqa: E731
        else:
            raise unsupported(node)

        def evaluate(row: Row) -> Any:
            value = inner(row)
            if value is None:
                return None
            try:
                return convert(value)
            except (ValueError, decimal.InvalidOperation) as exc:
                raise DataError(f"cannot CAST {value!r} to {node.args['to'].sql()}") from exc

        return evaluate

    def _case(self, node: exp.Case) -> Evaluator:
        operand = self.compile(node.this) if node.this is not None else None
        branches = []
        for branch in node.args.get("ifs") or []:
            check_args(branch)
            branches.append((self.compile(branch.this), self.compile(branch.args["true"])))
        default = self.compile(node.args["default"]) if node.args.get("default") else None

        def evaluate(row: Row) -> Any:
            subject = operand(row) if operand is not None else None
            for test, value in branches:
                outcome = test(row)
                if operand is not None:
                    outcome = None if subject is None or outcome is None else subject == outcome
                if outcome is True:
                    return value(row)
            return default(row) if default is not None else None

        return evaluate

    def _constant(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Placeholder):
            return parameter(node, self.params)
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Boolean):
            return bool(node.this)
        assert isinstance(node, exp.Literal)
        if node.is_string:
            return node.this
        text = node.this
        return int(text) if text.isdigit() else decimal.Decimal(text)

    def _typed_pair(self, left: exp.Expression, right: exp.Expression) -> tuple[Evaluator, ...]:
        """Both sides; a constant facing a column takes the column's type."""
        compiled = []
        for this, other in ((left, right), (right, left)):
            if isinstance(other, exp.Column) and isinstance(this, exp.Literal | exp.Placeholder):
                value = coerce(self._constant(this), self.resolve(other).type_code)
                compiled.append(lambda row, value=value: value)
            else:
                compiled.append(self.compile(this))
        return tuple(compiled)

    def _comparison(self, op: str, left: exp.Expression, right: exp.Expression) -> Evaluator:
        first, second = self._typed_pair(left, right)
        compare = _COMPARE[op]

        def evaluate(row: Row) -> bool | None:
            a, b = first(row), second(row)
            return None if a is None or b is None else compare(a, b)

        return evaluate

    def _in(self, node: exp.In) -> Evaluator:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise NotSupportedError(f"IN with a subquery is not supported: {node.sql()}")
        tests = [self._comparison("=", node.this, item) for item in node.expressions]
        return lambda row: _or([test(row) for test in tests])

    def _like(self, node: exp.Like, escape: str | None = None) -> Evaluator:
        value, pattern = self.compile(node.this), self.compile(node.expression)
        negated = bool(node.args.get("negate"))

        def evaluate(row: Row) -> bool | None:
            text, wanted = value(row), pattern(row)
            if text is None or wanted is None:
                return None
            matcher = like_matcher(str(wanted), escape)
            return (matcher.fullmatch(str(text)) is None) == negated

        return evaluate

    def _arithmetic(self, op: str, node: exp.Expression) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)

        def evaluate(row: Row) -> Any:
            a, b = left(row), right(row)
            if a is None or b is None:
                return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if isinstance(a, int) and isinstance(b, int):
                raise NotSupportedError(
                    "integer division computed outside the database (its result differs "
                    "between back-ends)"
                )
            if b == 0:
                raise DataError("division by zero")
            return a / b

        return evaluate
