"""Every reading method of the warehouse, checked against answers computed from the reports."""

from __future__ import annotations

import itertools

import pytest

from bookkeeping.errors import ValidationError
from bookkeeping.interface import Bookkeeping, DatasetPath, Level, ListingQuery
from tests.warehouse.conftest import GENERATED_FILES, Populated


def _sample_paths(populated: Populated) -> list[DatasetPath]:
    first = populated.expected.records[1]
    attributes = populated.expected.attributes(first)
    return [
        DatasetPath(),
        DatasetPath(config_name="LHCb"),
        DatasetPath(config_name="MC", config_version="2012"),
        DatasetPath(
            config_name=str(attributes["configname"]),
            config_version=str(attributes["configversion"]),
            conditions=str(attributes["conditions"]),
            processing_pass=str(attributes["processingpass"]),
            event_type=first.event_type,
            file_type=first.file_type,
        ),
        DatasetPath(file_type="DST", production=first.production + 2),
        DatasetPath(production_range=(first.production, first.production + 10)),
        DatasetPath(config_name="nothing-like-this"),
    ]


def test_warehouse_implements_the_interface(populated: Populated) -> None:
    assert isinstance(populated.bookkeeping, Bookkeeping)


@pytest.mark.parametrize("level", list(Level))
def test_level_values_match_the_reports(populated: Populated, level: Level) -> None:
    for path in _sample_paths(populated):
        assert populated.bookkeeping.level_values(level, path) == (
            populated.expected.level_values(level, path)
        ), path


def test_level_values_of_everything_count_every_file(populated: Populated) -> None:
    values = populated.bookkeeping.level_values(Level.CONFIG_NAME)
    assert sum(v.files for v in values) == GENERATED_FILES
    assert {v.value for v in values} == {"LHCb", "MC"}


def test_files_pages_cover_the_dataset_once_in_order(populated: Populated) -> None:
    path = DatasetPath(config_name="LHCb")
    expected = populated.expected.dataset(path)
    pages = [populated.bookkeeping.files(path, offset=o, limit=25) for o in range(0, 400, 25)]
    listed = [record for page in pages for record in page.files]
    assert listed == expected
    assert {(p.total_files, p.total_events, p.total_bytes) for p in pages} == {
        (len(expected), sum(r.events for r in expected), sum(r.size for r in expected))
    }


@pytest.mark.parametrize("order_by", ["size", "events", "run", "production", "creation", "lfn"])
@pytest.mark.parametrize("descending", [False, True])
def test_files_order_by_any_key_with_nulls_last(
    populated: Populated, order_by: str, descending: bool
) -> None:
    expected = populated.expected.dataset(DatasetPath())
    key = {"creation": "creation_time"}.get(order_by, order_by)
    present = sorted(
        (r for r in expected if getattr(r, key) is not None),
        key=lambda r: r.file_id,
    )
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    missing = sorted((r for r in expected if getattr(r, key) is None), key=lambda r: r.file_id)
    page = populated.bookkeeping.files(
        DatasetPath(),
        order_by=order_by,
        descending=descending,
        limit=None,  # type: ignore[arg-type]
    )
    assert [r.file_id for r in page.files] == [r.file_id for r in present + missing]


def test_iter_files_streams_the_same_files_as_one_page(populated: Populated) -> None:
    path = DatasetPath(config_name="MC")
    streamed = list(populated.bookkeeping.iter_files(path, order_by="size", descending=True))
    assert streamed == list(
        populated.bookkeeping.files(path, order_by="size", descending=True).files
    )


def test_files_by_id_and_lfn(populated: Populated) -> None:
    for record in itertools.islice(populated.expected.records.values(), 0, 400, 37):
        assert populated.bookkeeping.file_by_id(record.file_id) == record
        assert populated.bookkeeping.file_by_lfn(record.lfn) == record
    assert populated.bookkeeping.file_by_id(10**9) is None
    assert populated.bookkeeping.file_by_lfn("/lhcb/none") is None


def test_files_metadata_finds_known_and_names_missing(populated: Populated) -> None:
    records = list(populated.expected.records.values())[::50]
    lfns = [r.lfn for r in reversed(records)] + ["/lhcb/missing/b", "/lhcb/missing/a"]
    answer = populated.bookkeeping.files_metadata(lfns + lfns[:1])
    assert answer.found == tuple(sorted(records, key=lambda r: r.lfn))
    assert answer.missing == ("/lhcb/missing/a", "/lhcb/missing/b")


def test_file_parameters_by_id_and_name(populated: Populated) -> None:
    for file_id in (1, 123, GENERATED_FILES):
        expected = populated.expected.file_parameters(file_id)
        assert populated.bookkeeping.file_parameters(file_id) == expected
        for parameter in expected:
            assert populated.bookkeeping.file_parameter(file_id, parameter.name) == parameter.value
    assert populated.bookkeeping.file_parameter(1, "NoSuchParameter") is None


def test_size_of_the_file_with_a_guid_is_a_self_join(populated: Populated) -> None:
    record = populated.expected.records[77]
    answer = populated.bookkeeping.parameter_where("Size", "GUID", record.guid)
    assert answer == (str(record.size),)
    assert populated.bookkeeping.parameter_where("Size", "GUID", "no-such-guid") == ()
    checksum = populated.bookkeeping.parameter_where("ADLER32", "GUID", record.guid)
    assert checksum == (record.checksum,)


def test_jobs_and_their_parameters(populated: Populated) -> None:
    for job_id in (1, 50, len(populated.expected.jobs)):
        assert populated.bookkeeping.job(job_id) == populated.expected.job(job_id)
        assert populated.bookkeeping.job_parameters(job_id) == (
            populated.expected.job_parameters(job_id)
        )
    assert populated.bookkeeping.job(10**9) is None
    assert populated.bookkeeping.job_parameters(10**9) == ()


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_ancestors_and_descendants_to_a_depth(populated: Populated, depth: int) -> None:
    expected = populated.expected
    with_parents = [f for f in expected.records if expected.ancestors(f, 1)][:8]
    with_children = [f for f in expected.records if expected.descendants(f, 1)][:8]
    assert with_parents and with_children
    for file_id in with_parents:
        assert populated.bookkeeping.ancestors(file_id, depth) == expected.ancestors(file_id, depth)
    for file_id in with_children:
        assert populated.bookkeeping.descendants(file_id, depth) == expected.descendants(
            file_id, depth
        )


def test_replicas_and_quality_flags(populated: Populated) -> None:
    for file_id in range(1, GENERATED_FILES + 1, 13):
        assert populated.bookkeeping.replicas(file_id) == populated.expected.replicas(file_id)
        assert populated.bookkeeping.quality_flags(file_id) == (
            populated.expected.quality_flags(file_id)
        )


def test_search_by_lfn_guid_production_and_run(populated: Populated) -> None:
    expected = populated.expected
    record = next(r for r in expected.records.values() if r.run is not None)
    everything = sorted(expected.records.values(), key=lambda r: r.lfn)
    assert populated.bookkeeping.search(guid=record.guid) == (record,)
    by_run = [r for r in everything if r.run == record.run]
    assert populated.bookkeeping.search(run=record.run, limit=1000) == tuple(by_run)
    by_production = [r for r in everything if r.production == record.production][:5]
    assert populated.bookkeeping.search(production=record.production, limit=5) == tuple(
        by_production
    )
    fragment = record.lfn.rsplit("/", 1)[1][:14]
    assert populated.bookkeeping.search(lfn=fragment, limit=1000) == tuple(
        r for r in everything if fragment in r.lfn
    )
    assert populated.bookkeeping.search(lfn="%") == ()  # a LIKE wildcard is just a character
    assert populated.bookkeeping.search(lfn=".RAW") == ()  # case matters on every back-end
    raw = tuple(r for r in everything if ".raw" in r.lfn)
    assert raw and populated.bookkeeping.search(lfn=".raw", limit=3) == raw[:3]
    assert populated.bookkeeping.search() == ()
    assert populated.bookkeeping.search(lfn="/lhcb/", limit=0) == ()


def test_streams_can_be_abandoned_early(populated: Populated) -> None:
    files = populated.bookkeeping.iter_files(DatasetPath())
    assert next(files) == populated.expected.dataset(DatasetPath())[0]
    files.close()
    lines = populated.bookkeeping.iter_listing(ListingQuery("RAW"))
    assert next(lines).lfn == populated.expected.listing(ListingQuery("RAW"))[0].lfn
    lines.close()
    assert populated.bookkeeping.search(lfn="/lhcb/", limit=2) == tuple(
        populated.expected.dataset(DatasetPath())[:2]
    )


def test_negative_paging_is_refused_with_a_validation_error(populated: Populated) -> None:
    with pytest.raises(ValidationError, match="must not be negative"):
        populated.bookkeeping.files(DatasetPath(), offset=-1)
