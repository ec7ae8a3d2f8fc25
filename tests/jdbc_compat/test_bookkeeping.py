"""``JdbcBookkeeping``: the warehouse reader's own statements, run through jdbc_compat on the
catalogue bookkeeping's directories, answer every call of the ``Bookkeeping`` interface
exactly (``==``) as ``WarehouseBookkeeping`` answers it on the same generated data - on
every back-end, in-process and over ``amga://``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from bookkeeping import jdbc_compat
from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bench.callmix import METHODS, Call, call_stream, sample_pools
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Bookkeeping, ListingQuery
from bookkeeping.jdbc_bookkeeping import JdbcBookkeeping
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES
from tests.catalogue_bookkeeping.conftest import fresh_pair
from tests.catalogue_bookkeeping.test_equivalence import _ask_everything, _perturb, _record
from tests.conftest import BACKENDS
from tests.jdbc_compat.conftest import ROOT_PASSWORD, _ServerThread

GENERATED_FILES = 60
CALLS = 360


@pytest.fixture(scope="module", params=BACKENDS)
def recorded(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A bookkeeping recorded by both writers (the warehouse's tables and the catalogue's
    directories in one database)."""
    with fresh_pair(request.param) as pair:
        reports = list(generate_reports(GENERATED_FILES, seed=29))
        warehouse = pair.warehouse_writer.record_batch(reports)
        assert warehouse == pair.catalogue_writer.record_batch(reports)
        yield pair.engine


def _answer(bookkeeping: Bookkeeping, call: Call) -> tuple[str, Any]:
    try:
        answer = getattr(bookkeeping, call.method)(*call.args, **call.kwargs)
        if call.method.startswith("iter_"):
            answer = list(answer)
    except Exception as exc:  # noqa: BLE001 - the outcomes are compared, errors included
        return "error", f"{type(exc).__name__}: {exc}"
    return "ok", answer


def _differences(
    expected: Bookkeeping, got: Bookkeeping, calls: list[Call]
) -> list[tuple[Call, Any, Any]]:
    found = []
    for call in calls:
        want = _answer(expected, call)
        assert want[0] == "ok", (call, want)  # the reference answers every call of the mix
        have = _answer(got, call)
        if have != want:
            found.append((call, want, have))
    return found


def _describe(differences: list[tuple[Call, Any, Any]]) -> str:
    lines = [f"{len(differences)} calls differ; the first:"]
    for call, want, have in differences[:3]:
        lines += [f"  {call}", f"    warehouse: {str(want)[:400]}", f"    jdbc:      {have}"]
    return "\n".join(lines)


def test_every_call_of_the_bench_stream_answers_as_the_warehouse(recorded: sa.Engine) -> None:
    pools = sample_pools(recorded, seed=7)
    calls = call_stream(pools, CALLS, seed=7)
    assert {call.method for call in calls} == set(METHODS)  # every interface method
    connection = jdbc_compat.connect(Catalogue(recorded))
    try:
        differences = _differences(
            WarehouseBookkeeping(recorded), JdbcBookkeeping(connection), calls
        )
    finally:
        connection.close()
    assert not differences, _describe(differences)


def test_over_amga_every_call_answers_as_the_warehouse(recorded: sa.Engine) -> None:
    """The wire carries NULL and "" alike; the replicas view's columns are NOT NULL (as the
    warehouse's are), so a tape copy's empty area is "" here too."""
    pools = sample_pools(recorded, seed=11)
    calls = call_stream(pools, CALLS // 3, seed=11)
    catalogue = Catalogue(recorded)
    catalogue.set_password("root", "root", ROOT_PASSWORD)
    server = _ServerThread(catalogue)
    try:
        connection = jdbc_compat.connect(server.dsn)
        try:
            differences = _differences(
                WarehouseBookkeeping(recorded), JdbcBookkeeping(connection), calls
            )
        finally:
            connection.close()
    finally:
        server.stop()
    assert any(call.method == "replicas" for call in calls)
    assert not differences, _describe(differences)


_settings = settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("backend", BACKENDS)
@_settings
@given(data=st.data(), files=st.integers(1, 14), seed=st.integers(0, 2**16))
def test_odd_reports_give_the_warehouse_answers(
    backend: str, data: st.DataObject, files: int, seed: int
) -> None:
    """The catalogue equivalence test's data (odd parameter names such as ``Gauss.Version``
    or ``FILE_ID``, duplicates, reports that cannot be recorded) and questions."""
    reports = _perturb(data, list(generate_reports(files, seed)))
    with fresh_pair(backend) as pair:
        _record(data, pair, reports)
        connection = jdbc_compat.connect(Catalogue(pair.engine))
        try:
            # _ask_everything compares ``warehouse`` (the reference) with ``catalogue``.
            jdbc = JdbcBookkeeping(connection)
            _ask_everything(data, dataclasses.replace(pair, catalogue=jdbc))
        finally:
            connection.close()


_WAREHOUSE_SQL = re.compile(
    r"\b(FROM|JOIN)\s+\"?(" + "|".join(t.name for t in WAREHOUSE_TABLES) + r")\"?(\s|$)", re.I
)


def test_it_reads_the_catalogue_directories_not_the_warehouse_tables() -> None:
    reports = list(generate_reports(12, seed=5))
    late = reports.pop()
    with fresh_pair("sqlite") as pair:
        pair.warehouse_writer.record_batch(reports)
        pair.catalogue_writer.record_batch([*reports, late])  # the catalogue alone has it
        executed: list[str] = []

        def record(_c: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
            executed.append(sql)

        connection = jdbc_compat.connect(Catalogue(pair.engine))
        event.listen(pair.engine, "before_cursor_execute", record)
        try:
            jdbc = JdbcBookkeeping(connection)
            lfn = late.output_files[0].lfn
            found = jdbc.file_by_lfn(lfn)
            listed = list(jdbc.iter_listing(ListingQuery(found.file_type if found else "")))
        finally:
            event.remove(pair.engine, "before_cursor_execute", record)
            connection.close()
        assert pair.warehouse.file_by_lfn(lfn) is None
        assert found is not None and found == CatalogueBookkeeping(pair.engine).file_by_lfn(lfn)
        assert lfn in [line.lfn for line in listed]
        assert executed and not [sql for sql in executed if _WAREHOUSE_SQL.search(sql)]
