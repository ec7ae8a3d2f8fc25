"""The catalogue bookkeeping over the AMGA protocol answers every interface call exactly as
the in-process one does, on generated data, on every back-end.

A real server (``bk amga serve``'s ``AmgaServer``) on a free loopback port serves the
database both writers recorded into; ``RemoteCatalogueBookkeeping`` reads it through the
project's ``MDClient``. The hypothesis test reuses the warehouse equivalence test's drawing
of data and questions, with the in-process catalogue as the reference.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Parameter, Replica
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_catalogue_is_laid_out_and_answers_empty(backend: str) -> None:
    with fresh_pair(backend) as pair, served(pair.engine) as server:
        with remote_bookkeeping(server) as remote:
            assert remote.file_by_id(1) is None  # first: the remote reader lays it out
            assert {"/files", "/roottree"} <= {
                p for p, _ in pair.catalogue.catalogue.session("root").dir("/")
            }
            differences = compare(pair.catalogue, remote, every_call(pair.catalogue))
            assert not differences, describe(differences)
