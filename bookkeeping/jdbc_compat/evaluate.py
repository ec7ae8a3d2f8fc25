"""Python evaluation of SQL expressions over fetched rows, for what the query language
cannot say (IS [NOT] NULL, comparisons with NULL, integer division, GROUP BY). SQL's
three-valued logic holds: ``None`` is UNKNOWN.

Operands are typed as the catalogue's query compiler types them (``kinds.py``): a constant
compared with a column takes the column's type, text compared with a number, arithmetic on
text and LOWER of a number are ProgrammingErrors, known before any row is read. Values whose
kind is only known at run time (CASE, COALESCE, a view's values) are checked when they meet:
a mismatch is a ProgrammingError naming the construct, never a Python TypeError.
"""

from __future__ import annotations

import decimal
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from bookkeeping.jdbc_compat.catalogue_types import catalogue_type
from bookkeeping.jdbc_compat.conditions import ARITHMETIC, COMPARISONS
from bookkeeping.jdbc_compat.exceptions import DataError, NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.kinds import (
    STRING,
    UNKNOWN,
    KindOf,
    as_number,
    bare_column,
    coerce,
    constant_value,
    family,
    is_constant,
    refuse_unconverted,
    shown,
)
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


def comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """SQL compares a double with a decimal as doubles; Python compares them exactly."""
    if isinstance(a, float) and isinstance(b, decimal.Decimal):
        return a, float(b)
    if isinstance(a, decimal.Decimal) and isinstance(b, float):
        return float(a), b
    return a, b


def is_number(value: object) -> bool:
    return isinstance(value, int | float | decimal.Decimal)  # a condition's bool is 0 or 1


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
        self.kind = KindOf(resolve, params)
        # Inside a grouped expression (COALESCE(SUM(x), 0)): how an aggregate is read.
        self.aggregate = aggregate
        # How an EXISTS subquery is tested (a semi-join the statement reads first); None
        # where a statement cannot read one (UPDATE, DELETE).
        self.subquery = subquery

    def compile(self, node: exp.Expr) -> Evaluator:  # noqa: C901 - one branch per node
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
        if is_constant(node) or isinstance(node, exp.Null | exp.Boolean):
            value = constant_value(node, self.params)
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
        if type(node) in COMPARISONS and isinstance(node, exp.Binary):
            return self._comparison(COMPARISONS[type(node)], node.left, node.right, node)
        if isinstance(node, exp.Between):
            low = self._comparison(">=", node.this, node.args["low"], node)
            high = self._comparison("<=", node.this, node.args["high"], node)
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
        if type(node) in ARITHMETIC and isinstance(node, exp.Binary):
            return self._arithmetic(ARITHMETIC[type(node)], node)
        if isinstance(node, exp.Neg):
            inner = self._number(node.this, node)
            return lambda row: None if (v := inner(row)) is None else -v
        if isinstance(node, exp.Lower | exp.Upper):
            return self._case_function(node)
        if isinstance(node, exp.Cast):
            return self._cast(node)
        if isinstance(node, exp.Coalesce):
            parts = [self.compile(part) for part in [node.this, *node.expressions]]
            return lambda row: next((v for part in parts if (v := part(row)) is not None), None)
        if isinstance(node, exp.Case):
            return self._case(node)
        raise unsupported(node)

    def _cast(self, node: exp.Cast) -> Evaluator:
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
            except (ValueError, TypeError, ArithmeticError) as exc:
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

    def _typed_pair(
        self, left: exp.Expr, right: exp.Expr, context: exp.Expr
    ) -> tuple[Evaluator, Evaluator]:
        """Both sides of a comparison: a constant meeting a column takes its type, as in the
        catalogue; one of the other kind meeting anything else is refused
        (``refuse_unconverted``); two expressions must be of comparable kinds."""
        constants = [is_constant(side) for side in (left, right)]
        if not any(constants):
            self.check_comparable(left, right, context)
            return self.compile(left), self.compile(right)
        compiled = []
        for this, other, constant in ((left, right, constants[0]), (right, left, constants[1])):
            if not constant:
                compiled.append(self.compile(this))
                continue
            value = constant_value(this, self.params)
            column = bare_column(other)
            if column is not None:
                value = coerce(value, self.resolve(column).type_code, shown(context))
            else:
                refuse_unconverted(value, self.kind(other), shown(context))
            compiled.append(_constant(value))
        return compiled[0], compiled[1]

    def check_comparable(self, left: exp.Expr, right: exp.Expr, context: exp.Expr) -> None:
        """ProgrammingError when text, numbers and dates meet (as in the catalogue)."""
        kinds = {family(self.kind(left)), family(self.kind(right))} - {UNKNOWN}
        if len(kinds) > 1:
            first, second = sorted(kinds)
            raise ProgrammingError(f"cannot compare a {first} with a {second}: {shown(context)}")

    def _comparison(self, op: str, left: exp.Expr, right: exp.Expr, context: exp.Expr) -> Evaluator:
        first, second = self._typed_pair(left, right, context)
        compare = _COMPARE[op]

        def evaluate(row: Row) -> bool | None:
            a, b = first(row), second(row)
            if a is None or b is None:
                return None
            try:
                return compare(*comparable(a, b))
            except TypeError:
                raise ProgrammingError(
                    f"cannot compare {type(a).__name__} {a!r} with {type(b).__name__} {b!r}: "
                    f"{shown(context)}"
                ) from None

        return evaluate

    def _in(self, node: exp.In) -> Evaluator:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise NotSupportedError(f"IN with a subquery is not supported: {node.sql()}")
        tests = [self._comparison("=", node.this, item, node) for item in node.expressions]
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

    def _number(self, node: exp.Expr, context: exp.Expr) -> Evaluator:
        """An operand of arithmetic: a number. A text constant there is read as a number (as
        the catalogue reads a string literal); text or a date is a ProgrammingError."""
        if is_constant(node):
            value = constant_value(node, self.params)
            number = None if value is None else as_number(value, shown(context))
            return lambda row: number
        kind = family(self.kind(node))
        if kind not in {"number", UNKNOWN}:
            raise ProgrammingError(f"arithmetic needs numbers, not a {kind}: {shown(context)}")
        inner = self.compile(node)

        def evaluate(row: Row) -> Any:
            value = inner(row)
            if value is not None and not is_number(value):
                raise ProgrammingError(
                    f"arithmetic needs numbers, not {type(value).__name__} {value!r}: "
                    f"{shown(context)}"
                )
            return value

        return evaluate

    def _case_function(self, node: exp.Lower | exp.Upper) -> Evaluator:
        name = "LOWER" if isinstance(node, exp.Lower) else "UPPER"
        kind = family(self.kind(node.this))
        if kind not in {STRING, UNKNOWN}:
            raise ProgrammingError(f"{name} needs a string, not a {kind}: {shown(node)}")
        inner = self.compile(node.this)
        method = str.lower if isinstance(node, exp.Lower) else str.upper

        def evaluate(row: Row) -> str | None:
            value = inner(row)
            if value is None:
                return None
            if not isinstance(value, str):
                raise ProgrammingError(
                    f"{name} needs a string, not {type(value).__name__} {value!r}: {shown(node)}"
                )
            return method(value)

        return evaluate

    def _arithmetic(self, op: str, node: exp.Binary) -> Evaluator:
        left, right = self._number(node.left, node), self._number(node.right, node)

        def evaluate(row: Row) -> Any:
            a, b = left(row), right(row)
            if a is None or b is None:
                return None
            a, b = comparable(a, b)  # a double meeting a decimal: doubles, as in SQL
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if b == 0:
                return None  # SQLite's x / 0, and the catalogue's
            if isinstance(a, int) and isinstance(b, int):
                return integer_division(a, b)
            return a / b

        return evaluate


def integer_division(a: int, b: int) -> int:
    """SQL's integer division (SQLite's, PostgreSQL's): the quotient truncated toward zero
    (Python's ``//`` floors, so -7 // 2 is -4 where SQL gives -3)."""
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _constant(value: Any) -> Evaluator:
    """An evaluator answering ``value`` for every row."""
    return lambda row: value
