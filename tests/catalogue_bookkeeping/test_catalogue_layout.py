"""The catalogue bookkeeping: its layout, its writer's guarantees, and a fixed production
asked every ordering and level (the cases the random test may not draw)."""

from __future__ import annotations

import dataclasses

import pytest

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.query import parse_condition
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Level, ListingQuery
from bookkeeping.listing import parse_where
from bookkeeping.writer.model import RecordStatus
from tests.catalogue_bookkeeping.conftest import Pair

ORDERS = ("lfn", "size", "events", "run", "production", "creation", "file_id")


@pytest.mark.parametrize(
    "name", ["CPUTime", "Gauss.Version", "Job-Type", "FILE_ID", "Q_x", "a.b-c_d", "\u00e9t\u00e9"]
)
def test_parameter_names_map_to_query_safe_attributes_and_back(name: str) -> None:
    attribute = L.attribute_name(L.FILE_PARAMS, name)
    assert L.parameter_name(attribute) == name
    assert attribute.replace("_", "").isalnum() and attribute[0].isalpha()
    assert attribute != "FILE_ID"


@pytest.mark.parametrize("text", ["plain", 'a "quoted" \\ word', "it's", "\\%_", "\u2603"])
def test_string_literals_parse_back_to_the_same_text(text: str) -> None:
    condition = parse_condition(f"/d:x = {L.literal(text)}")
    assert condition.where.right.value == text  # type: ignore[union-attr]


def test_layout_has_appendix_a_directories_and_attributes(pair: Pair) -> None:
    pair.catalogue_writer.record_batch(list(generate_reports(5, seed=1)))
    session = Catalogue(pair.engine).session("root")
    for directory, attributes in L.BASE_ATTRIBUTES.items():
        assert set(attributes) <= dict(session.listattr(directory)).keys()
    sites = [path for path, kind in session.dir(L.REPLICAS) if kind == "collection"]
    assert "/replicas/CERN" in sites
    assert dict(session.listattr("/replicas/CERN")).keys() >= {"REPLICA", "FILE_ID"}
    # parameters become attributes on first use
    assert "CPUTime" in dict(session.listattr(L.JOB_PARAMS))


def test_a_report_sent_twice_is_recorded_once(pair: Pair) -> None:
    reports = list(generate_reports(6, seed=2))
    first = pair.catalogue_writer.record_batch(reports)
    again = pair.catalogue_writer.record_batch(reports)
    assert {r.status for r in first} == {RecordStatus.RECORDED}
    assert {r.status for r in again} == {RecordStatus.DUPLICATE}
    assert pair.catalogue.files(DatasetPath()).total_files == 6


def test_a_bad_report_changes_nothing_and_the_batch_goes_on(pair: Pair) -> None:
    good = list(generate_reports(4, seed=3))
    bad = dataclasses.replace(good[0], dirac_job_id=1, input_files=("/lhcb/missing.dst",))
    invalid = dataclasses.replace(good[0], dirac_job_id=2, config_name="")
    results = pair.catalogue_writer.record_batch([bad, *good, invalid])
    assert results[0].status is RecordStatus.FAILED
    assert "/lhcb/missing.dst is not in the bookkeeping" in (results[0].error or "")
    assert results[-1].status is RecordStatus.FAILED and results[-1].error_code is not None
    assert {r.status for r in results[1:-1]} == {RecordStatus.RECORDED}
    assert pair.catalogue.job(1) is not None and pair.catalogue.job(len(good) + 1) is None
    assert pair.catalogue.files(DatasetPath()).total_files == 4


def test_a_fixed_production_answers_every_order_and_level_like_the_warehouse(pair: Pair) -> None:
    reports = list(generate_reports(40, seed=11))
    assert pair.warehouse_writer.record_batch(reports) == pair.catalogue_writer.record_batch(
        reports
    )
    warehouse, catalogue = pair.warehouse, pair.catalogue
    for path in (DatasetPath(), DatasetPath(config_name="MC"), DatasetPath(file_type="DST")):
        for order in ORDERS:
            for descending in (False, True):
                kwargs = {"order_by": order, "descending": descending}
                assert catalogue.files(path, offset=2, limit=9, **kwargs) == warehouse.files(
                    path, offset=2, limit=9, **kwargs
                )
        for level in Level:
            assert catalogue.level_values(level, path) == warehouse.level_values(level, path)
    for where in ("run >= 0 or quality = 'OK'", "not (quality != 'BAD')", "run in (1, 2)"):
        for file_type in ("DST", "ALLSTREAMS.DST", "RAW"):
            query = ListingQuery(file_type, parse_where(where), disk_only=True)
            assert list(catalogue.iter_listing(query)) == list(warehouse.iter_listing(query))
