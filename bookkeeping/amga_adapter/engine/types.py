"""Attribute types: parsing AMGA type specifications, SQL types, coercion of values.

A type specification is normalised once (``"VARCHAR( 64 )"`` -> ``"varchar(64)"``) and the
normal form is what the attribute table stores and ``listattr`` shows.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle
from sqlalchemy.types import TypeDecorator

from bookkeeping.amga_adapter.engine.errors import InvalidType, InvalidValue, TypeMismatch

MAX_VARCHAR = 4000  # Oracle's VARCHAR2 limit; longer text belongs in "text"
# On MariaDB every declared VARCHAR byte counts against the 65,535-byte row limit, so a
# directory of many wide attributes could not be created; wider ones are stored as TEXT there.
_MARIADB_VARCHAR_AS_TEXT_ABOVE = 64
# One meaning on every back-end (docs/catalogue.md, "Types"): AMGA's ``float`` is
# PostgreSQL's, double precision; ``sa.Float`` would be MariaDB's four-byte FLOAT. MariaDB's
# DATETIME and TIME without a precision drop microseconds: they get six digits, as elsewhere.
_SIMPLE = {
    "int": sa.Integer,
    "integer": sa.Integer,
    "smallint": sa.SmallInteger,
    "bigint": sa.BigInteger,
    "float": sa.Double,
    "double": sa.Double,
    "text": sa.Text,
    "timestamp": sa.DateTime,
    "date": sa.Date,
    "time": sa.Time,
}
_CANONICAL = {"integer": "int"}
_SIZED = re.compile(r"^(varchar2?|numeric|decimal)\s*\(\s*(\d{1,5})\s*(?:,\s*(\d{1,5})\s*)?\)$")
_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


class _SQLiteDecimal(TypeDecorator[decimal.Decimal]):
    """Numeric on SQLite: stored as REAL (so comparisons and arithmetic stay numeric),
    returned as Decimal rounded to the declared scale."""

    impl = sa.Float
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> float | None:
        return None if value is None else float(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> decimal.Decimal | None:
        if value is None:
            return None
        return round(decimal.Decimal(repr(float(value))), self.scale)


class _OracleTime(TypeDecorator[dt.time]):
    """A time of day on Oracle, which has no TIME type: the interval since midnight, as an
    ``INTERVAL DAY(0) TO SECOND(6)`` (zero days: the database itself refuses 24 hours or
    more), converted from and to ``datetime.time``. Order and comparisons are the times'."""

    impl = oracle.INTERVAL
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(day_precision=0, second_precision=6)

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> dt.timedelta | None:
        if value is None:
            return None
        if not isinstance(value, dt.time):
            raise TypeError(f"a time of day is a datetime.time, not {type(value).__name__}")
        return dt.timedelta(
            hours=value.hour,
            minutes=value.minute,
            seconds=value.second,
            microseconds=value.microsecond,
        )

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.time | None:
        if value is None:
            return None
        return (dt.datetime.min + value).time()


# The Oracle forms of the types Oracle spells differently (compile-checked only, see
# docs/catalogue.md): DATE would drop a timestamp's fractional seconds, and TIME does not exist.
_ORACLE_VARIANTS: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "timestamp": oracle.TIMESTAMP,
    "time": _OracleTime,
}
MARIADB_VARIANTS: dict[str, sa.types.TypeEngine[Any]] = {
    "timestamp": mysql.DATETIME(fsp=6),
    "time": mysql.TIME(fsp=6),
}


@dataclass(frozen=True)
class AttributeType:
    """A parsed attribute type."""

    spec: str  # normal form, e.g. "varchar(64)", "numeric(10,2)", "int"
    kind: str  # int, smallint, bigint, float, double, numeric, varchar, text, timestamp, ...
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def sql_type(self) -> sa.types.TypeEngine[Any]:
        if self.kind == "varchar":
            assert self.length is not None
            string: sa.types.TypeEngine[Any] = sa.String(self.length)
            if self.text_on_mariadb:
                string = string.with_variant(sa.Text(), "mysql", "mariadb")
            return string
        if self.kind == "numeric":
            assert self.precision is not None and self.scale is not None
            return sa.Numeric(self.precision, self.scale).with_variant(
                _SQLiteDecimal(self.scale), "sqlite"
            )
        simple = _SIMPLE[self.kind]()
        if self.kind in _ORACLE_VARIANTS:
            simple = simple.with_variant(_ORACLE_VARIANTS[self.kind](), "oracle")
        if self.kind in MARIADB_VARIANTS:
            simple = simple.with_variant(MARIADB_VARIANTS[self.kind], "mysql", "mariadb")
        return simple

    @property
    def text_on_mariadb(self) -> bool:
        """Stored as TEXT on MariaDB (which indexes only a prefix of it)."""
        return self.kind == "varchar" and (self.length or 0) > _MARIADB_VARCHAR_AS_TEXT_ABOVE

    def coerce(self, attribute: str, value: object) -> object:
        """``value`` (a Python value or the string the wire sent) as this type's Python value."""
        if value is None:
            return None
        try:
            return _COERCERS[self.kind](self, value)
        except (ValueError, ArithmeticError, TypeError) as exc:
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            raise TypeMismatch(
                f"attribute {attribute!r} has type {self.spec}: cannot store {shown} ({exc})",
                attribute=attribute,
            ) from None


def parse_type(spec: str | None) -> AttributeType:
    """Parse an AMGA type specification; ``None`` means the default ``varchar(255)``."""
    if spec is None:
        spec = "varchar(255)"
    text = " ".join(spec.strip().lower().split())
    if text in _SIMPLE:
        kind = _CANONICAL.get(text, text)
        return AttributeType(spec=kind, kind=kind)
    match = _SIZED.match(text)
    if not match:
        raise InvalidType(
            f"unknown attribute type {spec!r}: use int, smallint, bigint, float, double, "
            "numeric(p,s), varchar(n), varchar2(n), text, timestamp, date or time"
        )
    name, first, second = match.group(1), int(match.group(2)), match.group(3)
    if name.startswith("varchar"):
        if second is not None or not 1 <= first <= MAX_VARCHAR:
            raise InvalidType(f"{spec!r}: varchar length must be 1..{MAX_VARCHAR}")
        return AttributeType(spec=f"{name}({first})", kind="varchar", length=first)
    scale = int(second) if second is not None else 0
    if not 1 <= first <= 38 or not 0 <= scale <= first:
        raise InvalidType(f"{spec!r}: numeric needs 1 <= precision <= 38 and 0 <= scale <= p")
    return AttributeType(
        spec=f"numeric({first},{scale})", kind="numeric", precision=first, scale=scale
    )


def check_text(what: str, value: str) -> str:
    """Reject text no back-end stores faithfully: PostgreSQL cannot hold NUL in text."""
    if "\x00" in value:
        raise InvalidValue(f"{what} contains a NUL character, which cannot be stored")
    return value


def _to_int(t: AttributeType, value: object) -> int:
    if type(value) is int and _INT_RANGES[t.kind][0] <= value <= _INT_RANGES[t.kind][1]:
        return value  # the bulk writers' case, checked without conversions
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        value = int(value)
    result = int(value.strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
    low, high = _INT_RANGES[t.kind]
    if not low <= result <= high:
        raise ValueError(f"out of range for {t.kind}")
    return result


def _to_float(t: AttributeType, value: object) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    result = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinity cannot be stored")
    return result


def _to_decimal(t: AttributeType, value: object) -> decimal.Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        value = repr(value)
    result = decimal.Decimal(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    if not result.is_finite():
        raise ValueError("NaN and infinity cannot be stored")
    assert t.precision is not None and t.scale is not None
    quantised = result.quantize(decimal.Decimal(1).scaleb(-t.scale), decimal.ROUND_HALF_UP)
    if quantised.adjusted() >= t.precision - t.scale:
        raise ValueError(f"more than {t.precision - t.scale} digits before the point")
    return quantised


def _to_str(t: AttributeType, value: object) -> str:
    if type(value) is str and (t.length is None or len(value) <= t.length) and "\x00" not in value:
        return value  # the bulk writers' case
    if not isinstance(value, str):
        if isinstance(value, bool | bytes):
            raise TypeError(f"{type(value).__name__} is not text")
        value = str(value)
    check_text("value", value)
    if t.length is not None and len(value) > t.length:
        raise ValueError(f"longer than {t.length} characters")
    return value


def _to_datetime(t: AttributeType, value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        result = dt.datetime.fromisoformat(value.strip())
    else:
        raise TypeError(f"{type(value).__name__} is not a timestamp")
    if result.tzinfo is not None:
        # Stored naive in UTC: every back-end then compares timestamps the same way.
        result = result.astimezone(dt.UTC).replace(tzinfo=None)
    return result


def _to_date(t: AttributeType, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("a timestamp is not a date")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise TypeError(f"{type(value).__name__} is not a date")


def _to_time(t: AttributeType, value: object) -> dt.time:
    if isinstance(value, dt.time):
        result = value
    elif isinstance(value, str):
        result = dt.time.fromisoformat(value.strip())
    else:
        raise TypeError(f"{type(value).__name__} is not a time")
    if result.tzinfo is not None:
        raise ValueError("times with a time zone are not supported")
    return result


_COERCERS = {
    "int": _to_int,
    "smallint": _to_int,
    "bigint": _to_int,
    "float": _to_float,
    "double": _to_float,
    "numeric": _to_decimal,
    "varchar": _to_str,
    "text": _to_str,
    "timestamp": _to_datetime,
    "date": _to_date,
    "time": _to_time,
}
