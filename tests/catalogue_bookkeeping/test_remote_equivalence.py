"""The catalogue bookkeeping over the AMGA protocol answers every interface call exactly as
the in-process one does, on generated data, on every back-end.

A real server (``bk amga serve``'s ``AmgaServer``) on a free loopback port serves the
database both writers recorded into; ``RemoteCatalogueBookkeeping`` reads it through the
project's ``MDClient``. The hypothesis test reuses the warehouse equivalence test's drawing
of data and questions, with the in-process catalogue as the reference.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, ListingQuery, Parameter, Replica
from bookkeeping.writer.model import JobReport, ReplicaSpec
from tests.catalogue_bookkeeping.conftest import fresh_pair
from tests.catalogue_bookkeeping.remote import (
    compare,
    describe,
    every_call,
    remote_bookkeeping,
    served,
)
from tests.catalogue_bookkeeping.test_equivalence import _ask_everything, _perturb, _record
from tests.conftest import BACKENDS

_settings = settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("backend", BACKENDS)
@_settings
@given(data=st.data(), files=st.integers(1, 14), seed=st.integers(0, 2**16))
def test_remote_answers_every_call_like_in_process(
    backend: str, data: st.DataObject, files: int, seed: int
) -> None:
    reports = _perturb(data, list(generate_reports(files, seed)))
    with fresh_pair(backend) as pair:
        _record(data, pair, reports)
        with served(pair.engine) as server, remote_bookkeeping(server) as remote:
            # _ask_everything compares ``warehouse`` (the reference) with ``catalogue``.
            _ask_everything(
                data, dataclasses.replace(pair, warehouse=pair.catalogue, catalogue=remote)
            )


# Values the wire must carry faithfully: the empty string (the wire's NULL is an empty line
# too), escaped characters, text that looks like escapes, the end-of-transmission byte.
EDGE_VALUES = (
    ("Empty", ""),
    ("Lines", "first\nsecond\r\nthird"),
    ("Backslashes", "C:\\new\\table \\x04 \\\\"),
    ("Control", "before\x04after"),
    ("Quotes", 'it\'s "quoted"'),
    ("Unicode", "caf\u00e9 \u2603"),
    ("Blank", " "),
)


def _with_edge_values(reports: list[JobReport]) -> list[JobReport]:
    first = reports[0]
    output = first.output_files[0]
    recall = ReplicaSpec("CERN", "recall", area="f9z 99")  # no pfn: an empty string
    edited_output = dataclasses.replace(
        output,
        parameters=output.parameters + EDGE_VALUES,
        replicas=output.replicas + (recall,),
    )
    edited = dataclasses.replace(
        first,
        parameters=first.parameters + EDGE_VALUES,
        output_files=(edited_output, *first.output_files[1:]),
    )
    return [edited, *reports[1:]]


@pytest.mark.parametrize("views", [True, False], ids=["views", "directories"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_strings_nulls_and_escapes_survive_the_wire(backend: str, views: bool) -> None:
    reports = _with_edge_values(list(generate_reports(10, 7)))
    with fresh_pair(backend) as pair:
        results = pair.catalogue_writer.record_batch(reports)
        assert all(r.error is None for r in results), results
        local = CatalogueBookkeeping(pair.engine, views=views)
        with served(pair.engine) as server, remote_bookkeeping(server, views=views) as remote:
            differences = compare(local, remote, every_call(local))
            assert not differences, describe(differences)

            record = local.file_by_lfn(reports[0].output_files[0].lfn)
            assert record is not None
            # The empty values are there, as empty strings, not NULL (missing) ...
            assert Parameter("Empty", "") in remote.file_parameters(record.file_id)
            assert Parameter("Empty", "") in remote.job_parameters(record.job_id)
            assert remote.file_parameter(record.file_id, "Empty") == ""
            assert remote.parameter_where("Empty", "GUID", record.guid) == ("",)
            assert Replica("CERN", "recall", "f9z 99", "available", "") in remote.replicas(
                record.file_id
            )
            # ... while a parameter a file lacks stays missing, and so do quality flags
            # and runs of simulated files (NULL in the shards).
            assert remote.file_parameter(record.file_id + 1, "Empty") is None
            assert remote.file_parameters(record.file_id) == local.file_parameters(record.file_id)
            values = dict(EDGE_VALUES)
            assert {
                p.name: p.value for p in remote.job_parameters(record.job_id) if p.name in values
            } == values


def _schema(engine: Any) -> tuple[set[str], list[tuple[str, str]]]:
    """The database's tables and the catalogue's top-level entries."""
    tables = set(sa.inspect(engine).get_table_names())
    session = Catalogue(engine).session("root")
    try:
        return tables, sorted(session.dir("/"))
    finally:
        session.close()


EMPTY_CALLS = [
    ("file_by_lfn", ("/lhcb/none",), {}),
    ("parameter_where", ("Size", "GUID", "g"), {}),
    ("search", (), {"lfn": "lhcb", "limit": 3}),
    ("search", (), {"production": 1, "run": 2}),
    ("count_listing", (ListingQuery("DST"),), {}),
    ("iter_listing", (ListingQuery("DST", disk_only=True),), {}),
    ("life_cycle", (["/lhcb/none"],), {}),
    ("quality_counts", (DatasetPath(), ["OK", "BAD"]), {}),
    ("storage_share", (DatasetPath(),), {}),
    ("files", (DatasetPath(config_name="LHCb", file_type="DST"),), {"limit": 5}),
]


@pytest.mark.parametrize("views", [True, False], ids=["views", "directories"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_catalogue_without_layout_answers_empty_and_creates_nothing(
    backend: str, views: bool
) -> None:
    with fresh_pair(backend) as pair, served(pair.engine) as server:
        before = _schema(pair.engine)
        assert before[1] == []  # no writer has recorded: no layout yet
        local = CatalogueBookkeeping(pair.engine, views=views)
        with remote_bookkeeping(server, views=views) as remote:
            calls = every_call(pair.warehouse) + EMPTY_CALLS
            # The empty warehouse is the reference: "empty" means what it answers.
            for reader in (local, remote):
                differences = compare(pair.warehouse, reader, calls)
                assert not differences, describe(differences)
            assert remote.files(DatasetPath()).total_files == 0
            assert _schema(pair.engine) == before  # no table, no directory: no DDL
            # Once a writer lays it out and records, the same readers see the files.
            reports = list(generate_reports(3, 1))
            assert all(r.error is None for r in pair.catalogue_writer.record_batch(reports))
            lfn = reports[0].output_files[0].lfn
            for reader in (local, remote):
                found = reader.file_by_lfn(lfn)
                assert found is not None and found.lfn == lfn
