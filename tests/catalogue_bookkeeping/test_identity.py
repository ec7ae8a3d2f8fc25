"""A report's identity is its DIRAC job id: the same report again is a duplicate; a
different report under a recorded job id is a conflict, named, and changes nothing, in
both implementations alike (alone and inside a batch)."""

from __future__ import annotations

import dataclasses

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath
from bookkeeping.writer.errors import ReportConflict
from bookkeeping.writer.model import JobReport, RecordStatus
from tests.catalogue_bookkeeping.conftest import Pair

REPORTS = list(generate_reports(12, seed=8))


def _renamed_outputs(report: JobReport) -> JobReport:
    outputs = tuple(
        dataclasses.replace(f, lfn=f.lfn.replace("/lhcb/", "/lhcb/other/", 1))
        for f in report.output_files
    )
    return dataclasses.replace(report, output_files=outputs, source="other.xml")


def test_a_different_report_under_a_recorded_job_id_is_a_conflict(pair: Pair) -> None:
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        assert all(r.ok for r in writer.record_batch(REPORTS))
    before = [reader.files(DatasetPath()) for reader in (pair.warehouse, pair.catalogue)]
    impostor = _renamed_outputs(REPORTS[3])
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        again = writer.record(dataclasses.replace(REPORTS[3], source="again.xml"))
        assert again.status is RecordStatus.DUPLICATE
        refused = writer.record(impostor)
        assert refused.status is RecordStatus.FAILED
        assert refused.error_code == ReportConflict.code
        assert refused.error is not None
        assert refused.error.startswith("other.xml: DIRAC job ")
        assert "is already recorded, without the output file /lhcb/other/" in refused.error
    after = [reader.files(DatasetPath()) for reader in (pair.warehouse, pair.catalogue)]
    assert after == before


def test_inside_one_batch_the_second_report_of_a_job_id_is_judged_the_same_way(
    pair: Pair,
) -> None:
    batch = [REPORTS[0], REPORTS[0], _renamed_outputs(REPORTS[0]), REPORTS[1]]
    outcomes = [
        [r.status for r in writer.record_batch(batch)]
        for writer in (pair.warehouse_writer, pair.catalogue_writer)
    ]
    expected = [
        RecordStatus.RECORDED,
        RecordStatus.DUPLICATE,
        RecordStatus.FAILED,
        RecordStatus.RECORDED,
    ]
    assert outcomes == [expected, expected]
    assert pair.catalogue.files(DatasetPath()) == pair.warehouse.files(DatasetPath())
