"""The writers' bulk path (``bookkeeping.bulk``: COPY on PostgreSQL, driver-level
executemany elsewhere) keeps the guarantees of an ordinary INSERT."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import EntryExists, TypeMismatch
from bookkeeping.bulk import COPY_MIN_ROWS, insert_rows
from bookkeeping.warehouse.tables import jobs
from tests.catalogue_bookkeeping.conftest import add_root

MANY = COPY_MIN_ROWS * 3  # past the threshold: COPY on PostgreSQL


def _session(engine: Engine):  # noqa: ANN202
    add_root(engine)
    session = Catalogue(engine).session("root")
    session.createdir("/d")
    session.addattr("/d", "n", "bigint")
    session.addattr("/d", "when", "timestamp")
    return session


def _names(session) -> list[str]:  # noqa: ANN001
    return sorted(name for name, _ in session.getattr("/d/*", ["n"]))


def test_many_entries_go_in_with_their_types(engine: Engine) -> None:
    session = _session(engine)
    when = datetime.datetime(2012, 5, 1, 12, 30)
    assert (
        session.addentries("/d", [(f"e{i}", {"n": i, "when": when}) for i in range(MANY)]) == MANY
    )
    assert list(session.getattr("/d/e7", ["n", "when"])) == [("e7", [7, when])]
    assert len(_names(session)) == MANY


def test_a_clash_in_a_bulk_insert_adds_nothing_and_names_the_entry(engine: Engine) -> None:
    session = _session(engine)
    session.addentry("/d/e42", {"n": 1})
    rows = [(f"e{i}", {"n": i}) for i in range(MANY)]
    with pytest.raises(EntryExists, match="/d/e42"):
        session.addentries("/d", rows)
    assert _names(session) == ["e42"]
    session.begin()  # inside a transaction: the statement's savepoint takes it back
    with pytest.raises(EntryExists):
        session.addentries("/d", rows)
    session.addentry("/d/after", {"n": 2})
    session.commit()
    assert _names(session) == ["after", "e42"]


def test_a_bad_value_in_a_bulk_insert_adds_nothing(engine: Engine) -> None:
    session = _session(engine)
    rows = [(f"e{i}", {"n": i}) for i in range(MANY)] + [("bad", {"n": "many"})]
    with pytest.raises(TypeMismatch, match="'n'"):
        session.addentries("/d", rows)
    assert _names(session) == []


def test_bulk_rows_are_counted_as_statements(engine: Engine) -> None:
    seen: list[str] = []

    def listener(*args: object) -> None:
        seen.append(str(args[2]))

    when = datetime.datetime(2012, 5, 1)
    rows = [(n, "c", "v", when) for n in range(1, MANY + 1)]
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        with engine.begin() as connection:
            insert_rows(
                connection, jobs, ["job_id", "configname", "configversion", "jobdate"], rows
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert [s.split()[0] for s in seen if "jobs" in s] in (["COPY"], ["INSERT"])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        insert_rows(connection, jobs, ["job_id", "configname", "configversion", "jobdate"], rows)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(jobs)) == MANY
