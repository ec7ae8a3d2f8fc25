"""The PEP 249 module surface: globals, exceptions, type objects and constructors."""

from __future__ import annotations

import datetime
import time

import pytest

from bookkeeping import jdbc_compat as db
from bookkeeping.errors import BookkeepingError


def test_module_globals() -> None:
    assert db.apilevel == "2.0"
    assert db.threadsafety in {0, 1, 2, 3}
    assert db.paramstyle == "qmark"


def test_exception_hierarchy_is_pep_249s() -> None:
    assert issubclass(db.Warning, Exception)
    assert issubclass(db.Error, Exception)
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(db, name), db.Error)
    for name in (
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ):
        assert issubclass(getattr(db, name), db.DatabaseError)
    assert not issubclass(db.Warning, db.Error)


def test_every_exception_is_a_bookkeeping_error_with_its_own_code() -> None:
    classes = [db.Warning, db.Error, db.InterfaceError, db.DatabaseError, db.DataError,
               db.OperationalError, db.IntegrityError, db.InternalError, db.ProgrammingError,
               db.NotSupportedError]  # fmt: skip
    assert all(issubclass(cls, BookkeepingError) for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)


def test_constructors() -> None:
    assert db.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
    assert db.Time(3, 4, 5) == datetime.time(3, 4, 5)
    assert db.Timestamp(2024, 1, 2, 3, 4, 5) == datetime.datetime(2024, 1, 2, 3, 4, 5)
    ticks = time.mktime((2024, 1, 2, 3, 4, 5, 0, 0, -1))
    assert db.DateFromTicks(ticks) == datetime.date(2024, 1, 2)
    assert db.TimeFromTicks(ticks) == datetime.time(3, 4, 5)
    assert db.TimestampFromTicks(ticks) == datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert db.Binary("ab") == b"ab"
    assert db.Binary(bytearray(b"\x00")) == b"\x00"


@pytest.mark.parametrize(
    ("type_code", "kind"),
    [
        ("varchar(64)", db.STRING),
        ("text", db.STRING),
        ("int", db.NUMBER),
        ("numeric(10,2)", db.NUMBER),
        ("double", db.NUMBER),
        ("timestamp", db.DATETIME),
        ("date", db.DATETIME),
        ("entry", db.ROWID),
    ],
)
def test_type_objects_compare_equal_to_catalogue_types(type_code: str, kind: object) -> None:
    assert type_code == kind
    assert kind == type_code
    others = {db.STRING, db.NUMBER, db.DATETIME, db.ROWID, db.BINARY} - {kind}
    assert all(type_code != other for other in others)
