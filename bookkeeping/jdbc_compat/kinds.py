"""What kind of value an expression has (known before any row is read), and constants
converted the way the catalogue's query compiler converts a literal.

The catalogue types every operand: a literal takes the type of what it meets (compared with
an int attribute, "5" is 5; compared with a varchar, 5 is "5"); text meeting a number,
arithmetic or a sum on text, LOWER of a number are errors (QueryTypeError ->
ProgrammingError). What Python computes for the query language follows the same rules, so
that a statement does not change its answer - or start raising - when a term moves between
the catalogue and Python. Integers and reals are told apart because SQL's ``/`` divides two
integers as integers, which the catalogue's always-real division cannot do.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from bookkeeping.jdbc_compat.catalogue_types import catalogue_type
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.literals import refuse_nul
from bookkeeping.jdbc_compat.parsing import parameter
from bookkeeping.jdbc_compat.scope import ResolvedColumn
from bookkeeping.jdbc_compat.types import base_type

INTEGER, REAL, STRING, TEMPORAL, UNKNOWN = "integer", "real", "string", "temporal", "unknown"
NUMBERS = frozenset({INTEGER, REAL})

_INTEGER_TYPES = frozenset({"int", "integer", "bigint", "smallint"})
_FLOAT_TYPES = frozenset({"float", "double"})
_DECIMAL_TYPES = frozenset({"numeric", "decimal"})
_STRING_TYPES = frozenset({"varchar", "varchar2", "char", "text", "entry"})
_TEMPORAL_TYPES = frozenset({"date", "time", "timestamp"})

Number = int | float | decimal.Decimal


def type_kind(type_code: str | None) -> str:
    kind = base_type(type_code or "")
    if kind in _INTEGER_TYPES:
        return INTEGER
    if kind in _FLOAT_TYPES | _DECIMAL_TYPES:
        return REAL
    if kind in _STRING_TYPES:
        return STRING
    if kind in _TEMPORAL_TYPES:
        return TEMPORAL
    return UNKNOWN


def value_kind(value: object) -> str:
    if isinstance(value, int):  # bool included: SQL has no booleans, sqlite3 binds 0/1
        return INTEGER
    if isinstance(value, float | decimal.Decimal):
        return REAL
    if isinstance(value, str):
        return STRING
    if isinstance(value, datetime.date | datetime.time):
        return TEMPORAL
    return UNKNOWN


def family(kind: str) -> str:
    """What the catalogue tells apart when it checks operands: number, string, temporal."""
    return "number" if kind in NUMBERS else kind


def shown(node: exp.Expr) -> str:
    """The SQL text of ``node`` for an error message, shortened."""
    text = node.sql(dialect="sqlite")
    return text if len(text) <= 60 else text[:57] + "..."


def is_constant(node: exp.Expr) -> bool:
    """A literal, a parameter or a negated number literal (``-1`` parses as a negation)."""
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    return isinstance(node, exp.Literal | exp.Placeholder)


def bare_column(node: exp.Expr) -> exp.Column | None:
    """The column ``node`` is, parentheses aside (a column keeps its type, SQLite's
    affinity, through them); None for any other expression."""
    while isinstance(node, exp.Paren):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def constant_value(node: exp.Expr, params: Sequence[object]) -> Any:
    """The value of a constant node: numbers as SQLite reads them (a literal with a point or
    an exponent is a real, as it is in the query language)."""
    if isinstance(node, exp.Placeholder):
        value = parameter(node, params)
        if isinstance(value, str):
            refuse_nul(value)  # as the catalogue's query language would
        return value
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return int(bool(node.this))
    if isinstance(node, exp.Neg):
        return -constant_value(node.this, params)
    assert isinstance(node, exp.Literal)
    if node.is_string:
        refuse_nul(node.this)
        return node.this
    text = node.this
    if text.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise NotSupportedError(f"numeric literal {text!r}") from None


def number_of_text(text: str) -> int | float | None:
    """Text read as a number the way the query compiler reads a string literal that meets a
    number (whole numbers stay whole); None when it is no finite number."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(decimal.Decimal(text))
    except ArithmeticError:  # decimal.InvalidOperation
        return None
    return number if math.isfinite(number) else None


def as_number(value: object, context: str) -> Number:
    """A constant used as a number: numbers as they are, numeric text read as a number;
    anything else is a ProgrammingError, as in the catalogue."""
    if isinstance(value, int | float | decimal.Decimal):
        if isinstance(value, float | decimal.Decimal) and not math.isfinite(value):
            raise NotSupportedError(f"non-finite number {value!r} in {context}")
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, str):
        number = number_of_text(value)
        if number is None:
            raise ProgrammingError(f"{value!r} is not a number, in {context}")
        return number
    raise ProgrammingError(f"a {type(value).__name__} is not a number, in {context}")


def as_text(value: object) -> str:
    """A constant meeting text, as the catalogue spells it: the number the query language
    reads back from the literal the driver sends (``repr`` of a real, so 2.0 is "2.0")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, decimal.Decimal):
        number = number_of_text(format(value, "f"))
        return repr(number) if number is not None else format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raise NotSupportedError("binary values: the catalogue has no binary attribute type")
    raise NotSupportedError(f"parameter of type {type(value).__name__}")


def coerce(value: Any, type_code: str, context: str) -> Any:
    """A constant compared with a column, converted to the column's type as the catalogue
    converts a literal. Numbers are never rounded: ``a = 1.5`` is false for every integer."""
    if value is None:
        return None
    kind = base_type(type_code)
    if kind in _INTEGER_TYPES | _FLOAT_TYPES | _DECIMAL_TYPES:
        number = as_number(value, context)
        # SQL compares a double with a decimal as doubles; Python compares them exactly
        # (Decimal("0.1") != 0.1), so each is brought to the column's own kind.
        if kind in _FLOAT_TYPES and isinstance(number, decimal.Decimal):
            return float(number)
        if kind in _DECIMAL_TYPES and isinstance(number, float):
            return decimal.Decimal(repr(number))
        return number
    if kind in _STRING_TYPES:
        return as_text(value)
    if kind in _TEMPORAL_TYPES:
        return _temporal(value, kind, context)
    return value


def refuse_unconverted(value: object, kind: str, context: str) -> None:
    """A constant meeting an expression that is no column (``a / 2 = '1'``, ``LOWER(s) = 5``,
    ``'1' = 1``), of the other kind: SQLite converts a constant only for a column (its
    affinity) and compares text and numbers as unequal, where the catalogue (and PostgreSQL,
    MariaDB) would convert it. No answer is right everywhere: NotSupportedError."""
    text_meets_number = isinstance(value, str) and kind in NUMBERS
    number_meets_text = isinstance(value, int | float | decimal.Decimal) and kind == STRING
    if text_meets_number or number_meets_text:
        raise NotSupportedError(
            f"a {value_kind(value)} constant compared with a {family(kind)} that is no column "
            f"(SQLite would not convert it): {context}"
        )


_PARSERS: dict[str, Callable[[str], datetime.date | datetime.datetime | datetime.time]] = {
    "timestamp": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
}


def _temporal(value: object, kind: str, context: str) -> object:
    if isinstance(value, datetime.date | datetime.time):
        # The catalogue receives a date or time as its ISO text, read as the column's type.
        value = as_text(value)
    if not isinstance(value, str):
        raise ProgrammingError(
            f"expected a {kind} (a quoted ISO string), found {value!r}, in {context}"
        )
    try:
        return _PARSERS[kind](value.strip())
    except ValueError:
        raise ProgrammingError(f"{value!r} is not a {kind} (ISO 8601), in {context}") from None


class KindOf:
    """The kind of an expression's values: INTEGER, REAL, STRING, TEMPORAL or UNKNOWN (no
    checks, no conversions: NULL, CASE, COALESCE, conditions)."""

    def __init__(
        self, resolve: Callable[[exp.Column], ResolvedColumn], params: Sequence[object]
    ) -> None:
        self.resolve = resolve
        self.params = params

    def __call__(self, node: exp.Expr) -> str:  # noqa: C901 - one branch per node
        if isinstance(node, exp.Column):
            return type_kind(self.resolve(node).type_code)
        if is_constant(node):
            return value_kind(constant_value(node, self.params))
        if isinstance(node, exp.Paren):
            return self(node.this)
        if isinstance(node, exp.Neg):
            kind = self.operand(node.this)
            return kind if kind in NUMBERS else UNKNOWN  # else an error, when compiled
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
            kinds = {self.operand(node.left), self.operand(node.right)}
            if kinds == {INTEGER}:
                return INTEGER  # int / int too: SQL's integer division
            return REAL if kinds <= NUMBERS else UNKNOWN
        if isinstance(node, exp.DPipe | exp.Lower | exp.Upper):
            return STRING
        if isinstance(node, exp.Cast):
            try:
                return type_kind(catalogue_type(node.args["to"]))
            except NotSupportedError:
                return UNKNOWN
        if isinstance(node, exp.Count):
            return INTEGER
        if isinstance(node, exp.Avg):
            return REAL
        if isinstance(node, exp.Sum | exp.Min | exp.Max):
            argument = node.this
            if isinstance(argument, exp.Distinct) and len(argument.expressions) == 1:
                argument = argument.expressions[0]
            return UNKNOWN if isinstance(argument, exp.Star) else self(argument)
        return UNKNOWN

    def operand(self, node: exp.Expr) -> str:
        """The kind of an arithmetic operand: a text constant there is read as a number."""
        if is_constant(node):
            value = constant_value(node, self.params)
            if isinstance(value, str):
                number = number_of_text(value)
                return UNKNOWN if number is None else value_kind(number)
        return self(node)
