"""The dataset filters of ``DatasetPath`` (run, creation, events and size ranges, the DQ
flag, the site and disk/tape/recalled of the copies) answer alike from the warehouse's
SQL, the catalogue's views and the catalogue without views, and keep exactly the files a
plain reading of the filters keeps; so do ``storage_share`` and ``quality_counts`` (the DQ
facet's one grouped count)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, FileRecord, Level, SiteShare, StorageShare
from bookkeeping.writer.model import JobReport
from tests.catalogue_bookkeeping.conftest import fresh_pair
from tests.conftest import BACKENDS
from tests.warehouse.expected import Expected

PATHS_PER_EXAMPLE = 12
FLAGS = ("OK", "BAD", "UNCHECKED", "absent")


def _bounds(data: st.DataObject, values: list, label: str) -> tuple:
    pool = st.none() | st.sampled_from(values)
    low, high = data.draw(pool, f"{label} low"), data.draw(pool, f"{label} high")
    if low is not None and high is not None and low > high:
        low, high = high, low
    return (low, high)


def _filters(data: st.DataObject, records: list[FileRecord]) -> dict[str, object]:
    runs = sorted({r.run for r in records if r.run is not None})
    created = sorted({r.creation_time for r in records})
    created += [created[0] - timedelta(days=1), created[-1] + timedelta(seconds=1)]
    changes: dict[str, object] = {}
    if runs and data.draw(st.booleans(), "run"):
        changes["run_range"] = _bounds(data, runs, "run")
    if data.draw(st.booleans(), "created"):
        changes["created_range"] = _bounds(data, sorted(created), "created")
    if data.draw(st.booleans(), "events"):
        changes["events_range"] = _bounds(data, sorted({r.events for r in records}), "events")
    if data.draw(st.booleans(), "size"):
        changes["size_range"] = _bounds(data, sorted({r.size for r in records}), "size")
    if data.draw(st.booleans(), "quality"):
        changes["quality"] = data.draw(st.sampled_from(["OK", "BAD", "UNCHECKED", "absent"]))
    if data.draw(st.booleans(), "site"):
        changes["site"] = data.draw(st.sampled_from(["CERN", "GRIDKA", "RAL", "nowhere"]))
    if data.draw(st.booleans(), "storage"):
        changes["storage"] = data.draw(st.sampled_from(["disk", "tape", "recalled"]))
    return changes


Copies = dict[str, list[tuple[str, str]]]  # LFN -> (site, storage class) of available copies


def _copies(reports: list[JobReport]) -> Copies:
    return {
        output.lfn: [(r.site, r.storage_class) for r in output.replicas if r.status == "available"]
        for report in reports
        for output in report.output_files
    }


def _kinds(copies: list[tuple[str, str]]) -> set[str]:
    """Written out here independently of ``bookkeeping.interface.storage_kinds``."""
    classes = {storage_class for _site, storage_class in copies}
    kinds = {kind for kind, cls in (("disk", "disk"), ("recalled", "recall")) if cls in classes}
    if "tape" in classes and not kinds:
        kinds.add("tape")
    return kinds


def _meets_copies(path: DatasetPath, copies: list[tuple[str, str]]) -> bool:
    if path.site is not None and path.site not in {site for site, _ in copies}:
        return False
    return path.storage is None or path.storage in _kinds(copies)


def _expected_share(records: list[FileRecord], copies: Copies) -> StorageShare:
    def total(kind: str) -> tuple[int, int]:
        chosen = [r for r in records if kind in _kinds(copies[r.lfn])]
        return len(chosen), sum(r.size for r in chosen)

    sites = sorted({site for r in records for site, _ in copies[r.lfn]})
    per_site = []
    for site in sites:
        there = [r for r in records if site in {s for s, _ in copies[r.lfn]}]
        per_site.append(SiteShare(site, len(there), sum(r.size for r in there)))
    return StorageShare(
        len(records), sum(r.size for r in records), *total("disk"), *total("tape"),
        *total("recalled"),
        sum(1 for r in records if _kinds(copies[r.lfn]) & {"disk", "recalled"}),
        sites=tuple(per_site),
    )  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_filtered_datasets_agree_and_keep_what_the_filters_say(
    backend: str, data: st.DataObject, seed: int
) -> None:
    reports = list(generate_reports(80, seed))
    with fresh_pair(backend) as pair:
        pair.warehouse_writer.record_batch(reports)
        pair.catalogue_writer.record_batch(reports)
        without_views = CatalogueBookkeeping(pair.engine, views=False)
        records = list(pair.warehouse.files(DatasetPath()).files)
        copies = _copies(reports)
        config_names = sorted({v.value for v in pair.warehouse.level_values(Level.CONFIG_NAME)})
        for _ in range(PATHS_PER_EXAMPLE):
            config = data.draw(st.none() | st.sampled_from(config_names), "config")
            path = DatasetPath(config_name=config, **_filters(data, records))  # type: ignore[arg-type]
            expected = sorted(
                (
                    r
                    for r in records
                    if (config is None or pair.warehouse.job(r.job_id).config_name == config)  # type: ignore[union-attr]
                    and Expected.meets_filters(r, path)
                    and _meets_copies(path, copies[r.lfn])
                ),
                key=lambda r: r.lfn,
            )
            page = pair.warehouse.files(path)
            assert list(page.files) == expected, path
            assert page.total_files == len(expected)
            assert page.total_bytes == sum(r.size for r in expected)
            share = pair.warehouse.storage_share(path)
            assert share == _expected_share(expected, copies), path
            counts = pair.warehouse.quality_counts(path, FLAGS)
            assert counts == {
                flag: sum(
                    1
                    for r in records
                    if (config is None or pair.warehouse.job(r.job_id).config_name == config)  # type: ignore[union-attr]
                    and Expected.meets_filters(r, dataclasses.replace(path, quality=flag))
                    and _meets_copies(path, copies[r.lfn])
                )
                for flag in FLAGS
            }, path
            for reader in (pair.catalogue, without_views):
                assert reader.files(path) == page, path
                assert reader.storage_share(path) == share, path
                assert reader.quality_counts(path, FLAGS) == counts, path
                assert list(reader.iter_files(path, order_by="size")) == list(
                    pair.warehouse.iter_files(path, order_by="size")
                )
                for level in (Level.FILE_TYPE, Level.PRODUCTION):
                    assert reader.level_values(level, path) == pair.warehouse.level_values(
                        level, path
                    ), (level, path)
            unfiltered = dataclasses.replace(path, run_range=None, quality=None)
            assert pair.catalogue.files(unfiltered, limit=3) == pair.warehouse.files(
                unfiltered, limit=3
            )


def test_shared_reads_answer_as_separate_calls(pair) -> None:  # type: ignore[no-untyped-def]
    """``shared_reads`` (one roottree reading for a page's calls) keys what it shares by the
    selection and its production filter: calls for other datasets and production filters in
    the same block answer as they do outside it."""
    reports = list(generate_reports(60, 3))
    pair.catalogue_writer.record_batch(reports)
    datasets = [v.value for v in pair.catalogue.level_values(Level.CONFIG_NAME)]
    productions = sorted(r.production for r in pair.catalogue.files(DatasetPath()).files)
    paths = [DatasetPath(config_name=name) for name in datasets]
    paths += [
        DatasetPath(production=productions[0]),
        DatasetPath(production_range=(productions[0], productions[len(productions) // 2])),
        DatasetPath(config_name=datasets[0], quality="OK", storage="disk"),
    ]

    def answers(path: DatasetPath) -> tuple[object, ...]:
        reader = pair.catalogue
        return (
            reader.files(path),
            reader.level_values(Level.PRODUCTION, path),
            reader.quality_counts(path, FLAGS),
            reader.storage_share(path),
        )

    alone = [answers(path) for path in paths]
    with pair.catalogue.shared_reads():
        assert [answers(path) for path in paths] == alone
        assert [answers(path) for path in reversed(paths)] == alone[::-1]
