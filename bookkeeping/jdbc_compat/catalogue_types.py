"""SQL column types -> catalogue attribute types (``CREATE TABLE`` columns and ``CAST``).

Its own module because both the DDL translation and the expression evaluators need it."""

from __future__ import annotations

from sqlglot import exp

from bookkeeping.jdbc_compat.exceptions import NotSupportedError
from bookkeeping.jdbc_compat.scope import unsupported

_T = exp.DataType.Type
_SIMPLE_TYPES = {
    _T.INT: "int",
    _T.MEDIUMINT: "int",
    _T.BIGINT: "bigint",
    _T.SMALLINT: "smallint",
    _T.TINYINT: "smallint",
    _T.FLOAT: "float",
    _T.DOUBLE: "double",
    _T.TEXT: "text",
    _T.DATE: "date",
    _T.TIME: "time",
    _T.TIMESTAMP: "timestamp",
    _T.DATETIME: "timestamp",
}
_STRING_TYPES = {_T.VARCHAR, _T.NVARCHAR, _T.CHAR, _T.NCHAR}


def catalogue_type(data_type: exp.DataType) -> str:
    """The catalogue attribute type of a SQL column type."""
    kind = data_type.this
    params = [p.this for p in data_type.expressions]
    if not all(isinstance(p, exp.Literal) and not p.is_string for p in params):
        raise unsupported(data_type, "CREATE TABLE")
    numbers = [int(p.this) for p in params]
    if kind in _SIMPLE_TYPES and not numbers:
        return _SIMPLE_TYPES[kind]
    if kind in _STRING_TYPES and len(numbers) <= 1:
        # Without a length SQL means "any"; the catalogue's unbounded string is text.
        return f"varchar({numbers[0]})" if numbers else "text"
    if kind == _T.DECIMAL and len(numbers) in {1, 2}:
        precision, scale = numbers[0], numbers[1] if len(numbers) == 2 else 0
        return f"numeric({precision},{scale})"
    if kind == _T.DECIMAL:
        raise NotSupportedError(
            f"{data_type.sql()} without a precision: give one, e.g. NUMERIC(18,6)"
        )
    raise NotSupportedError(f"column type {data_type.sql()} has no catalogue attribute type")
