"""A bounded bookkeeping call on the catalogue (a file, a job, their parameters) opens one
connection and sends one prepared statement, which reads the schema version with its rows:
no per-call user look-up, no server-side cursor, no existence probe before a single entry's
read, and no schema reload after a pause (the cache has no time to live)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath
from tests.catalogue_bookkeeping.conftest import Pair


@contextmanager
def _traffic(engine: Engine) -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"checkouts": [], "statements": []}

    def checkout(*args: object) -> None:
        seen["checkouts"].append("checkout")

    def statement(conn: Any, cursor: Any, text: str, *args: object) -> None:
        if not text.startswith("BEGIN"):  # SQLite's emulated BEGIN (engines.py)
            seen["statements"].append(text)

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "checkout", checkout)
        sa.event.remove(engine, "before_cursor_execute", statement)


def test_point_look_ups_take_one_connection_and_no_extra_statement(pair: Pair) -> None:
    assert all(r.ok for r in pair.catalogue_writer.record_batch(list(generate_reports(3, 5))))
    reader = pair.catalogue
    first = reader.files(DatasetPath()).files[0]
    reader.file_by_id(first.file_id)  # warm: layout checked, schema and user cached
    calls: dict[str, Callable[[], object]] = {
        "file_by_id": lambda: reader.file_by_id(first.file_id),  # quality by outer join
        "file_by_lfn": lambda: reader.file_by_lfn(first.lfn),
        "job": lambda: reader.job(first.job_id),  # the job and its parameters joined
        "job_parameters": lambda: reader.job_parameters(first.job_id),
        "file_parameters": lambda: reader.file_parameters(first.file_id),
        "file_parameter": lambda: reader.file_parameter(first.file_id, "GUID"),
        "parameter_where": lambda: reader.parameter_where("Size", "GUID", first.guid),
        "quality_flags": lambda: reader.quality_flags(first.file_id) or True,
    }
    for name, call in calls.items():
        call()  # this call shape prepared
        with _traffic(pair.engine) as seen:
            assert call()
        assert len(seen["checkouts"]) == 1, name
        # One statement, which reads the schema version along with the rows; a call that
        # finds nothing reads it apart.
        assert len(seen["statements"]) == 1, (name, seen["statements"])
        assert "cat_schema_version" in seen["statements"][0], name


def test_a_call_after_a_pause_sends_what_a_warm_call_sends(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert all(r.ok for r in pair.catalogue_writer.record_batch(list(generate_reports(2, 5))))
    reader = pair.catalogue
    first = reader.files(DatasetPath()).files[0]
    reader.file_by_id(first.file_id)
    with _traffic(pair.engine) as warm:
        reader.file_by_id(first.file_id)
    import time

    later = time.monotonic() + 3600.0  # an hour idle, without waiting for it
    monkeypatch.setattr(time, "monotonic", lambda: later)
    with _traffic(pair.engine) as idle:
        reader.file_by_id(first.file_id)
    assert idle["statements"] == warm["statements"]


def test_a_schema_change_elsewhere_counts_at_the_next_call(pair: Pair) -> None:
    """Another process (here another writer's catalogue) adds a file parameter: the
    reader's cached schema is validated by the version, not by a time to live."""
    assert all(r.ok for r in pair.catalogue_writer.record_batch(list(generate_reports(1, 5))))
    reader = pair.catalogue
    first = reader.files(DatasetPath()).files[0]
    before = {p.name: p.value for p in reader.file_parameters(first.file_id)}
    session = pair.catalogue_writer.catalogue.session("root")
    try:
        session.addattr("/fileParams", "Extra", "varchar(32)")
        session.setattr(f"/fileParams/{first.file_id}", {"Extra": "x"})
    finally:
        session.close()
    after = {p.name: p.value for p in reader.file_parameters(first.file_id)}
    assert after == {**before, "Extra": "x"}


def test_a_miss_reads_the_version_apart_and_nothing_more(pair: Pair) -> None:
    assert all(r.ok for r in pair.catalogue_writer.record_batch(list(generate_reports(1, 5))))
    reader = pair.catalogue
    assert reader.file_by_id(10**12) is None  # this call shape prepared
    with _traffic(pair.engine) as seen:
        assert reader.file_by_id(10**12) is None
    assert len(seen["statements"]) == 2, seen["statements"]
    assert seen["statements"][1].startswith("SELECT cat_schema_version.version")
