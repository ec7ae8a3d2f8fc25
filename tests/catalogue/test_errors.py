"""The error codes are stable (they go on the wire): every catalogue and query error class,
its code, unique, and the same as in docs/errors.md (the one table)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import bookkeeping.errors as generic_errors
from bookkeeping.amga_adapter.engine import errors as catalogue_errors
from bookkeeping.amga_adapter.query import errors as query_errors
from bookkeeping.errors import BookkeepingError

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The table as it stands; changing a code breaks clients, so it must be done here on purpose.
CATALOGUE_CODES = {
    "CatalogueError": 10,
    "NoSuchDirectory": 11,
    "NoSuchEntry": 12,
    "NoSuchAttribute": 13,
    "DirectoryExists": 14,
    "EntryExists": 15,
    "AttributeExists": 16,
    "DirectoryNotEmpty": 17,
    "PermissionDenied": 20,
    "AuthenticationFailed": 21,
    "NoSuchUser": 22,
    "UserExists": 23,
    "NoSuchGroup": 24,
    "GroupExists": 25,
    "TypeMismatch": 30,
    "InvalidName": 31,
    "InvalidType": 32,
    "InvalidValue": 33,
    "AttributeInUse": 34,
    "NoSuchSequence": 35,
    "SequenceExists": 36,
    "ConstraintViolation": 37,
    "NoSuchConstraint": 38,
    "TransactionError": 39,
    "SchemaChangeInTransaction": 40,
    "InvalidPattern": 41,
    "NoSuchIndex": 42,
}
QUERY_CODES = {"QueryError": 50, "QuerySyntaxError": 51, "QueryTypeError": 52}
GENERIC_CODES = {
    "BookkeepingError": 1,
    "ConfigError": 2,
    "DatabaseUnavailable": 3,
    "SchemaNotInitialised": 4,
    "ValidationError": 5,
    "InternalFailure": 6,
    "ValueOutOfRange": 7,
}


def _classes(module: ModuleType) -> dict[str, type[BookkeepingError]]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BookkeepingError)
        and value.__module__ == module.__name__
    }


def _documented_codes() -> dict[str, int]:
    """The rows of docs/errors.md, the one error table (catalogue.md points to it)."""
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    return {name: int(code) for code, name in re.findall(r"^\| (\d+) \| `(\w+)` \|", text, re.M)}


def _documented_query_codes() -> dict[str, int]:
    text = (DOCS / "query-language.md").read_text(encoding="utf-8")
    return {name: int(code) for name, code in re.findall(r"^\| `(\w+)` \| (\d+) \|", text, re.M)}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (catalogue_errors, CATALOGUE_CODES),
        (query_errors, QUERY_CODES),
        (generic_errors, GENERIC_CODES),
    ],
    ids=["catalogue", "query", "generic"],
)
def test_every_error_class_has_its_code(module: ModuleType, expected: dict[str, int]) -> None:
    assert {name: cls.code for name, cls in _classes(module).items()} == expected


def test_codes_are_unique_and_in_their_blocks() -> None:
    everything = {**CATALOGUE_CODES, **QUERY_CODES, **GENERIC_CODES}
    assert len(set(everything.values())) == len(everything)
    assert all(1 <= code <= 9 for code in GENERIC_CODES.values())
    assert all(10 <= code <= 49 for code in CATALOGUE_CODES.values())
    assert all(50 <= code <= 59 for code in QUERY_CODES.values())


def test_every_catalogue_error_derives_from_catalogue_error() -> None:
    for name, cls in _classes(catalogue_errors).items():
        assert issubclass(cls, catalogue_errors.CatalogueError), name


def test_the_documented_tables_match_the_code() -> None:
    documented = _documented_codes()
    assert {name: documented.get(name) for name in CATALOGUE_CODES} == CATALOGUE_CODES
    assert _documented_query_codes() == QUERY_CODES


def test_the_catalogue_doc_points_to_the_one_table() -> None:
    text = (DOCS / "catalogue.md").read_text(encoding="utf-8")
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    assert "(errors.md)" in section and "| code |" not in section
