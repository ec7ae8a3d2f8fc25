"""The one error hierarchy: unique codes, a status on every front-end, docs/errors.md in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookkeeping import error_table
from bookkeeping.error_table import (
    HTTP_STATUS,
    SQLSTATE,
    class_for_code,
    defining_classes,
    http_status_of,
    render_markdown,
    sqlstate_of,
)
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable, Kind
from bookkeeping.jdbc_compat import exceptions as dbapi
from bookkeeping.jdbc_compat.errors_map import to_dbapi
from bookkeeping.storage.errors import StorageError, StorageUnavailable

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_every_code_means_one_error() -> None:
    seen: dict[int, str] = {}
    for cls in defining_classes():
        assert cls.code not in seen, f"code {cls.code}: {seen[cls.code]} and {cls.__name__}"
        seen[cls.code] = cls.__name__
    assert seen[3] == "DatabaseUnavailable"
    assert len(seen) > 60


def test_every_kind_has_a_status_and_a_sqlstate() -> None:
    assert set(HTTP_STATUS) == set(Kind) == set(SQLSTATE)
    # Whatever a user does, the web answers 4xx or 503; 500 only for a bug or a bad setting.
    assert {kind for kind, status in HTTP_STATUS.items() if status >= 500} == {
        Kind.UNAVAILABLE,
        Kind.NOT_INITIALISED,
        Kind.CONFIG,
        Kind.INTERNAL,
    }
    assert HTTP_STATUS[Kind.UNAVAILABLE] == 503


def test_docs_errors_md_is_generated_from_the_hierarchy() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/errors.md is stale: run `python -m bookkeeping.error_table > docs/errors.md`"
    )


def test_a_new_subclass_is_translated_by_inheritance() -> None:
    class TapeOffline(StorageUnavailable):
        code = 399

    class OddPath(StorageError):
        code = 398

    assert http_status_of(TapeOffline) == 503 and sqlstate_of(TapeOffline) == "08006"
    assert isinstance(to_dbapi(TapeOffline("tape offline")), dbapi.OperationalError)
    assert http_status_of(OddPath) == 400
    assert TapeOffline("x").transient and not OddPath("x").transient


@pytest.mark.parametrize("cls", defining_classes(), ids=lambda cls: cls.__name__)
def test_every_error_maps_to_a_pep249_class_and_back_from_its_code(
    cls: type[BookkeepingError],
) -> None:
    error = cls.__new__(cls)
    BookkeepingError.__init__(error, "a message")
    mapped = to_dbapi(error)
    assert isinstance(mapped, dbapi.Error)
    if not isinstance(error, dbapi.Error):
        assert mapped.sqlstate == sqlstate_of(cls)  # type: ignore[attr-defined]
    assert class_for_code(cls.code) is cls


def test_an_outage_is_an_operational_error_with_a_connection_sqlstate() -> None:
    mapped = to_dbapi(DatabaseUnavailable("down"))
    assert isinstance(mapped, dbapi.OperationalError)
    assert mapped.sqlstate == "08006"  # type: ignore[attr-defined]


def test_no_front_end_maps_by_class_name() -> None:
    root = Path(error_table.__file__).resolve().parents[1]
    for path in [*root.glob("webui/**/*.py"), *root.glob("bookkeeping/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "type(exc) is" not in text and "_STATUS_BY_NAME" not in text, path
