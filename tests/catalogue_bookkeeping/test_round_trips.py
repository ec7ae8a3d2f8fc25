"""A bounded bookkeeping call on the catalogue (a file, a job, their parameters) opens one
connection and sends one statement per query it needs: no per-call user look-up, no
server-side cursor, no existence probe before a single entry's read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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
    calls: dict[str, tuple[Callable[[], object], int]] = {
        "file_by_id": (lambda: reader.file_by_id(first.file_id), 2),  # quality, then record
        "job": (lambda: reader.job(first.job_id), 2),  # the job and its parameters
        "quality_flags": (lambda: reader.quality_flags(first.file_id), 1),
    }
    for name, (call, statements) in calls.items():
        with _traffic(pair.engine) as seen:
            assert call()
        assert len(seen["checkouts"]) == 1, name
        assert len(seen["statements"]) == statements, (name, seen["statements"])
