"""SQL constructs that render differently per back-end so every back-end answers a query
the same way (see docs/query-language.md, "Semantics"):

- ``to_double``: a real cast on each back-end (MariaDB's CAST AS DOUBLE is not emitted by
  SQLAlchemy, which skips it with a warning); ``double_parameter``: a float literal that
  stays a double on MariaDB;
- ``binary_order`` / ``binary_match``: strings ordered / matched by code point, whatever
  the database's collation: PostgreSQL gets ``COLLATE "C"`` for both (its equality is
  exact under any deterministic collation, but its planner uses an index only for the
  collation the index was built with, and the engine's indexes are built ``COLLATE "C"``
  to serve ordering: ``directory_tables.py``), MariaDB ``COLLATE utf8mb4_bin`` for both,
  except on the directory tables' own columns, which are binary already (``utf8mb4_bin``
  tables) and whose prefix indexes (varchar wider than 64 is TEXT there) a COLLATE would
  disable, SQLite
  ``COLLATE BINARY`` (likewise);
  Oracle's default NLS_COMP compares binary already;
- ``nulls_low``: NULL sorts before every value ascending and after every value descending,
  as MariaDB and SQLite do natively; PostgreSQL and Oracle get NULLS FIRST / NULLS LAST;
- ``CaseSensitiveLike``: LIKE with backslash escapes, case-sensitive everywhere: SQLite's
  LIKE ignores ASCII case, so there it becomes GLOB with the pattern translated at bind time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from bookkeeping.metadata import DYNAMIC_TABLE_PREFIX

from .patterns import LIKE_ESCAPE, like_to_glob

_DOUBLE_NAMES = {
    "postgresql": "DOUBLE PRECISION",
    "sqlite": "REAL",
    "mysql": "DOUBLE",
    "mariadb": "DOUBLE",
    "oracle": "BINARY_DOUBLE",
}


class ToDouble(sa.ColumnElement[float]):
    inherit_cache = True
    type = sa.Double()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element


@compiles(ToDouble)
def _compile_to_double(element: ToDouble, compiler: SQLCompiler, **kw: Any) -> str:
    name = _DOUBLE_NAMES.get(compiler.dialect.name, "DOUBLE PRECISION")
    return f"CAST({compiler.process(element.element, **kw)} AS {name})"


def to_double(element: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
    return ToDouble(element)


class DateAsTimestamp(sa.ColumnElement[Any]):
    """A date met by a timestamp: that day at midnight, as the SQL standard (and PostgreSQL)
    compares them. SQLite stores both as text, a timestamp as SQLAlchemy writes it
    (``YYYY-MM-DD HH:MM:SS.ffffff``), so the date gets the same text for midnight."""

    inherit_cache = True
    type = sa.DateTime()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element


@compiles(DateAsTimestamp)
def _compile_date_as_timestamp(element: DateAsTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.element, **kw)
    if compiler.dialect.name == "sqlite":
        return f"({inner} || ' 00:00:00.000000')"
    if compiler.dialect.name == "mariadb" or compiler.dialect.name == "mysql":
        return f"CAST({inner} AS DATETIME(6))"
    return f"CAST({inner} AS TIMESTAMP)"


def date_as_timestamp(element: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return DateAsTimestamp(element)


class CheckedInteger(sa.ColumnElement[int]):
    """Integer arithmetic that fails on overflow, as PostgreSQL and MariaDB do: SQLite turns
    an overflowing integer result into a REAL silently, so there the result is checked and
    an overflow raises SQLite's own "integer overflow" (abs of -2^63), the error its sum()
    raises too (``bookkeeping.db_errors`` reads it as a ValueOutOfRange)."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element


@compiles(CheckedInteger)
def _compile_checked_integer(element: CheckedInteger, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.element, **kw)
    if compiler.dialect.name != "sqlite":
        return f"({inner})"  # parenthesised: it is an operand of what contains it
    return (
        f"(CASE WHEN typeof({inner}) = 'real' THEN abs(-9223372036854775807 - 1) ELSE {inner} END)"
    )


def checked_integer(element: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return CheckedInteger(element)


class CheckedSum(sa.ColumnElement[int]):
    """sum() of integers as a 64-bit integer, or an overflow error on every back-end.
    PostgreSQL's cast of the numeric sum raises; SQLite's sum() raises; MariaDB's cast
    saturates silently, so there an out-of-range sum takes a BIGINT addition that overflows
    (error 1690) when, and only when, it is evaluated (the count keeps it from being folded
    at prepare time)."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[Any]) -> None:
        self.element = element


@compiles(CheckedSum)
def _compile_checked_sum(element: CheckedSum, compiler: SQLCompiler, **kw: Any) -> str:
    total = compiler.process(sa.func.sum(element.element), **kw)
    if compiler.dialect.name not in ("mariadb", "mysql"):
        return compiler.process(sa.cast(sa.func.sum(element.element), sa.BigInteger), **kw)
    return (
        f"(CASE WHEN {total} > 9223372036854775807 OR {total} < -9223372036854775808 "
        f"THEN 9223372036854775807 + (count(*) > -1) ELSE CAST({total} AS SIGNED) END)"
    )


def checked_sum(element: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return CheckedSum(element)


class DoubleParameter(sa.ColumnElement[float]):
    inherit_cache = True
    type = sa.Double()
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.BindParameter[float]) -> None:
        self.element = element


@compiles(DoubleParameter)
def _compile_double_parameter(element: DoubleParameter, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.element, **kw)
    if compiler.dialect.name in {"mysql", "mariadb"}:
        return f"CAST({inner} AS DOUBLE)"
    return inner


def double_parameter(value: float) -> sa.ColumnElement[float]:
    """A bound float that is a double everywhere: PyMySQL sends floats as SQL text, which
    MariaDB reads as an exact DECIMAL (so 3 * 0.1 = 0.3 there, unlike anywhere else)."""
    return DoubleParameter(sa.bindparam(None, value, type_=sa.Double()))


class BinaryCollation(sa.ColumnElement[str]):
    inherit_cache = True
    _traverse_internals = [
        ("element", InternalTraversal.dp_clauseelement),
        ("ordering", InternalTraversal.dp_boolean),
    ]

    def __init__(self, element: sa.ColumnElement[Any], ordering: bool) -> None:
        self.element = element
        self.ordering = ordering
        self.type = element.type


@compiles(BinaryCollation)
def _compile_binary_collation(element: BinaryCollation, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.element, **kw)
    dialect = compiler.dialect.name
    if dialect in {"mysql", "mariadb"}:
        if _catalogue_column(element.element):
            # Binary already (directory tables are utf8mb4_bin), and a COLLATE on a column
            # stored as TEXT keeps MariaDB from its prefix index.
            return inner
        return f"{inner} COLLATE utf8mb4_bin"
    if dialect == "postgresql":
        return f'{inner} COLLATE "C"'
    if dialect == "sqlite":
        return f"{inner} COLLATE BINARY"
    return inner


def _catalogue_column(element: sa.ColumnElement[Any]) -> bool:
    """Whether ``element`` is a column of directory tables only (through aliases and
    subqueries)."""
    bases = getattr(element, "base_columns", None)
    if not bases:
        return False
    for base in bases:
        table = getattr(base, "table", None)
        if not isinstance(table, sa.Table) or not table.name.startswith(DYNAMIC_TABLE_PREFIX):
            return False
    return True


def binary_order(element: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``element`` ordered by code point if it is a string (for < > <= >=, min, max,
    order by), unchanged otherwise."""
    if isinstance(element.type, sa.String):
        return BinaryCollation(element, ordering=True)
    return element


def binary_match(element: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``element`` matched case- and accent-sensitively if it is a string (for =, !=, in,
    like), in the collation the engine's string indexes are built with."""
    if isinstance(element.type, sa.String):
        return BinaryCollation(element, ordering=False)
    return element


class NullsLow(sa.ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals = [
        ("element", InternalTraversal.dp_clauseelement),
        ("descending", InternalTraversal.dp_boolean),
    ]

    def __init__(self, element: sa.ColumnElement[Any], descending: bool) -> None:
        self.element = element
        self.descending = descending
        self.type = element.type


@compiles(NullsLow)
def _compile_nulls_low(element: NullsLow, compiler: SQLCompiler, **kw: Any) -> str:
    inner = element.element
    ordered = inner.desc() if element.descending else inner.asc()
    if compiler.dialect.name in {"postgresql", "oracle"}:
        ordered = ordered.nulls_last() if element.descending else ordered.nulls_first()
    return compiler.process(ordered, **kw)


def nulls_low(element: sa.ColumnElement[Any], descending: bool) -> sa.ColumnElement[Any]:
    """``element`` as an ORDER BY item (wrap strings in binary_order first)."""
    return NullsLow(element, descending)


class LikePattern(sa.TypeDecorator[str]):
    """A LIKE pattern (backslash escapes) bound as is, or as the equivalent GLOB on SQLite."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        if value is not None and dialect.name == "sqlite":
            return like_to_glob(value)
        return value

    # SQLAlchemy's stub says str, but None is rendered as NULL here as by its own types.
    def process_literal_param(  # type: ignore[override]
        self, value: str | None, dialect: sa.Dialect
    ) -> str | None:
        return self.process_bind_param(value, dialect)  # also when rendered inline


class CaseSensitiveLike(sa.ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a predicate: no "= 1" where booleans are not values
    _traverse_internals = [
        ("operand", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("negated", InternalTraversal.dp_boolean),
    ]

    def __init__(
        self, operand: sa.ColumnElement[Any], pattern: sa.ColumnElement[Any], negated: bool
    ) -> None:
        self.operand = operand
        self.pattern = pattern
        self.negated = negated

    def _negate(self) -> CaseSensitiveLike:
        # not like(...) is NOT LIKE: no bare NOT whose precedence varies (HIGH_NOT_PRECEDENCE)
        return CaseSensitiveLike(self.operand, self.pattern, not self.negated)


@compiles(CaseSensitiveLike)
def _compile_like(element: CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    operand = compiler.process(binary_match(element.operand), **kw)
    pattern = compiler.process(element.pattern, **kw)
    negation = "NOT " if element.negated else ""
    if compiler.dialect.name == "sqlite":
        return f"{operand} {negation}GLOB {pattern}"
    escape = compiler.render_literal_value(LIKE_ESCAPE, sa.String())
    return f"{operand} {negation}LIKE {pattern} ESCAPE {escape}"


def case_sensitive_like(
    operand: sa.ColumnElement[Any], pattern: str, negated: bool = False
) -> sa.ColumnElement[bool]:
    return CaseSensitiveLike(operand, sa.bindparam(None, pattern, type_=LikePattern()), negated)
