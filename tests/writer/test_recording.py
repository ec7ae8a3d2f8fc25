"""Recording job reports in the warehouse: atomic, idempotent, bad reports change nothing."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.generator import generate_reports
from bookkeeping.interface import BookkeepingWriter
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES
from bookkeeping.writer.model import JobReport, OutputFileSpec, RecordStatus
from bookkeeping.writer.service import record_reports

REPORTS = list(generate_reports(120, seed=5))


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in WAREHOUSE_TABLES
        }


def _with_output(report: JobReport, **changes: object) -> JobReport:
    output = dataclasses.replace(report.output_files[0], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(report, output_files=(output, *report.output_files[1:]))


def test_warehouse_writer_implements_the_writer_protocol(engine: Engine) -> None:
    assert isinstance(WarehouseWriter(engine), BookkeepingWriter)


def test_a_report_sent_twice_is_recorded_once(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    first = writer.record(REPORTS[0])
    assert first.status is RecordStatus.RECORDED and first.job_id == 1
    before = _counts(engine)
    again = writer.record(dataclasses.replace(REPORTS[0], source="resent"))
    assert again.status is RecordStatus.DUPLICATE and again.source == "resent"
    assert _counts(engine) == before
    batch = writer.record_batch([REPORTS[0], REPORTS[1], REPORTS[1]])
    assert [r.status for r in batch] == [
        RecordStatus.DUPLICATE,
        RecordStatus.RECORDED,
        RecordStatus.DUPLICATE,
    ]


def test_the_same_batch_twice_changes_nothing_the_second_time(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    assert {r.status for r in record_reports(writer, REPORTS, batch_size=7)} == {
        RecordStatus.RECORDED
    }
    before = _counts(engine)
    assert {r.status for r in record_reports(writer, REPORTS, batch_size=50)} == {
        RecordStatus.DUPLICATE
    }
    assert _counts(engine) == before
    assert before["files"] == 120


def test_an_invalid_report_changes_nothing_and_the_batch_goes_on(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    bad = _with_output(REPORTS[1], size=-5, guid="not-a-guid")
    results = writer.record_batch([REPORTS[0], bad, REPORTS[2]])
    assert [r.status for r in results] == [
        RecordStatus.RECORDED,
        RecordStatus.FAILED,
        RecordStatus.RECORDED,
    ]
    assert "OutputFile[0].Size: must be a non-negative integer" in (results[1].error or "")
    assert "OutputFile[0].GUID" in (results[1].error or "")
    reader = WarehouseBookkeeping(engine)
    assert reader.file_by_lfn(bad.output_files[0].lfn) is None
    assert reader.job(2) is not None and reader.job(3) is None  # ids of recorded reports only
    assert _counts(engine)["jobs"] == 2


def test_a_conflicting_lfn_fails_the_whole_report(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    writer.record(REPORTS[0])
    before = _counts(engine)
    taken = REPORTS[0].output_files[0].lfn
    clash = dataclasses.replace(REPORTS[3], dirac_job_id=99, input_files=())
    clash = dataclasses.replace(
        clash,
        output_files=(
            *clash.output_files,
            dataclasses.replace(REPORTS[3].output_files[0], lfn=taken),
        ),
    )
    result = writer.record(clash)
    assert result.status is RecordStatus.FAILED
    assert result.error == f"{clash.source}: output file {taken} is already recorded by another job"
    assert _counts(engine) == before


def test_unknown_inputs_and_undeclared_event_types_are_named(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    child = next(r for r in REPORTS if r.input_files)
    orphan = writer.record(child)
    assert orphan.status is RecordStatus.FAILED
    assert (
        orphan.error
        == f"{child.source}: input file {child.input_files[0]} is not in the bookkeeping"
    )
    undeclared = dataclasses.replace(REPORTS[0], event_types=())
    result = writer.record(undeclared)
    assert result.status is RecordStatus.FAILED
    assert "event type" in (result.error or "") and "is unknown" in (result.error or "")
    assert _counts(engine) == dict.fromkeys(_counts(engine), 0)


def test_a_failed_parent_fails_its_children_in_the_same_batch(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    parent_index = next(i for i, r in enumerate(REPORTS) if not r.input_files)
    parent = REPORTS[parent_index]
    children = [
        i
        for i, r in enumerate(REPORTS)
        if set(r.input_files) & {o.lfn for o in parent.output_files}
    ]
    broken = _with_output(parent, checksum="nothex!!")
    batch = [broken if i == parent_index else r for i, r in enumerate(REPORTS)]
    results = writer.record_batch(batch)
    assert results[parent_index].status is RecordStatus.FAILED
    assert children and all(results[i].status is RecordStatus.FAILED for i in children)
    recorded = sum(r.status is RecordStatus.RECORDED for r in results)
    assert _counts(engine)["jobs"] == recorded


def test_new_parameters_and_file_types_are_recorded(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    report = REPORTS[0]
    extra: OutputFileSpec = dataclasses.replace(
        report.output_files[0],
        file_type="BRAND.NEW",
        parameters=(("Colour", "blue"), ("EventInInputStat", "17")),
    )
    report = dataclasses.replace(
        report, output_files=(extra,), parameters=(("Worker_Node", "wn1"),)
    )
    assert writer.record(report).status is RecordStatus.RECORDED
    reader = WarehouseBookkeeping(engine)
    assert reader.file_parameter(1, "Colour") == "blue"
    assert reader.file_by_id(1).file_type == "BRAND.NEW"  # type: ignore[union-attr]
    assert ("Worker_Node", "wn1") in [(p.name, p.value) for p in reader.job_parameters(1)]
