"""Views kept in real time: check equals a rebuild after any writes (concurrent writers
too), differences are named, racing writers share one entry per combination, and a
selection's round trips do not grow with the database."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.builder import ViewSelection, matching_entries
from bookkeeping.amga_adapter.bookkeeping.views.maintain import (
    ensure_combination,
    ensure_view_layout,
)
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check, derive_all, rebuild
from bookkeeping.amga_adapter.bookkeeping.views.selection import view_files
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.cli import main
from bookkeeping.generator import generate_reports
from bookkeeping.interface import (
    Bookkeeping,
    BookkeepingWriter,
    DatasetPath,
    FilesPage,
    Level,
    ReplicaKey,
    ReplicaSpec,
)
from bookkeeping.writer.model import JobReport
from tests.catalogue_bookkeeping.conftest import Pair, fresh_pair
from tests.catalogue_bookkeeping.test_equivalence import path_drawn_from
from tests.conftest import BACKENDS


def _shifted(reports: list[JobReport], writer: int) -> list[JobReport]:
    """The reports of one concurrent writer: its own DIRAC ids and LFNs."""
    if writer == 0:
        return reports

    def lfn(name: str) -> str:
        return name.replace("/lhcb/", f"/lhcb/w{writer}/", 1)

    return [
        dataclasses.replace(
            r,
            dirac_job_id=r.dirac_job_id + writer * 1_000_000,
            input_files=tuple(lfn(x) for x in r.input_files),
            output_files=tuple(dataclasses.replace(f, lfn=lfn(f.lfn)) for f in r.output_files),
        )
        for r in reports
    ]


def _write_concurrently(
    pair: Pair,
    streams: list[list[JobReport]],
    batch: int,
    changes: Sequence[Callable[[BookkeepingWriter, Bookkeeping], object]] = (),
) -> None:
    """One catalogue writer per stream, and one more making ``changes``, all at once."""
    errors: list[BaseException] = []

    def run(reports: list[JobReport]) -> None:
        try:
            writer = CatalogueWriter(pair.engine)
            for start in range(0, len(reports), batch):
                results = writer.record_batch(reports[start : start + batch])
                assert all(r.ok for r in results), results
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def change() -> None:
        try:
            writer = CatalogueWriter(pair.engine)
            for make in changes:
                make(writer, pair.catalogue)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in streams]
    if changes:
        threads.append(threading.Thread(target=change))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@contextmanager
def _session(pair: Pair) -> Iterator:
    session = Catalogue(pair.engine).session("root")
    try:
        yield session
    finally:
        session.close()


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    files=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    writers=st.integers(1, 4),
    batch=st.integers(1, 8),
)
def test_check_passes_after_random_writes_by_concurrent_writers(
    backend: str, data: st.DataObject, files: int, seed: int, writers: int, batch: int
) -> None:
    """Writers record their own productions at once while another changes files recorded
    before (hides some, copies some to a new site, drops the first copy of others, which
    moves them to another combination); then the views are what a rebuild would make, and
    every selection answers as the warehouse, which was given the same writes one by one
    (ids aside: concurrent writers take their id blocks in another order)."""
    reports = list(generate_reports(files, seed))
    with fresh_pair(backend) as pair:
        for writer in (pair.warehouse_writer, pair.catalogue_writer):
            writer.record_batch(reports)
        streams = [_shifted(reports, w) for w in range(1, writers + 1)]
        changes = _draw_changes(data, pair)
        _write_concurrently(pair, streams, batch, changes)
        for stream in streams:
            pair.warehouse_writer.record_batch(stream)
        for change in changes:
            change(pair.warehouse_writer, pair.warehouse)
        with _session(pair) as session:
            assert check(session) == []
        _selections_agree(data, pair)


Change = Callable[[BookkeepingWriter, Bookkeeping], object]  # (writer, its own reader)


def _draw_changes(data: st.DataObject, pair: Pair) -> list[Change]:
    lfns = [r.lfn for r in pair.warehouse.files(DatasetPath()).files]
    if not lfns:
        return []
    pick = st.lists(st.sampled_from(lfns), min_size=1, max_size=4, unique=True)
    changes: list[Change] = []
    for _ in range(data.draw(st.integers(0, 4), "changes")):
        chosen = data.draw(pick, "files")
        kind = data.draw(st.sampled_from(["hide", "copy", "drop first"]), "change")
        if kind == "hide":
            changes.append(lambda w, _, c=chosen: w.set_visibility(c, False))
        elif kind == "copy":
            spec = ReplicaSpec("NEW-SITE", "disk")
            changes.append(lambda w, _, c=chosen, s=spec: w.add_replicas(c, s))
        else:
            changes.append(lambda w, r, c=chosen: _drop_first_copies(w, r, c))
    return changes


def _drop_first_copies(writer: BookkeepingWriter, reader: Bookkeeping, lfns: list[str]) -> None:
    """Remove the CERN tape copy (every generated file's first) of those that have it."""
    key = ReplicaKey("CERN", "tape", "")
    having = []
    for lfn in lfns:
        record = reader.file_by_lfn(lfn)
        assert record is not None
        copies = reader.replicas(record.file_id)
        if any(ReplicaKey(r.site, r.storage_class, r.area) == key for r in copies):
            having.append(lfn)
    if having:
        writer.remove_replicas(having, key)


def _without_ids(page: FilesPage) -> tuple[object, ...]:
    files = sorted(
        (dataclasses.replace(r, file_id=0, job_id=0) for r in page.files), key=lambda r: r.lfn
    )
    return (tuple(files), page.total_files, page.total_events, page.total_bytes)


def _selections_agree(data: st.DataObject, pair: Pair) -> None:
    warehouse, catalogue = pair.warehouse, pair.catalogue
    assert _without_ids(catalogue.files(DatasetPath())) == _without_ids(
        warehouse.files(DatasetPath())
    )
    for level in Level:
        assert catalogue.level_values(level) == warehouse.level_values(level), level
    for _ in range(4):
        path = path_drawn_from(data, pair)
        assert _without_ids(catalogue.files(path)) == _without_ids(warehouse.files(path)), path
        level = data.draw(st.sampled_from(list(Level)), "level")
        assert catalogue.level_values(level, path) == warehouse.level_values(level, path)
        # the share reads the copy folds the concurrent writers and changes left
        assert catalogue.storage_share(path) == warehouse.storage_share(path), path


def test_check_names_each_difference_and_rebuild_repairs_them(pair: Pair) -> None:
    reports = list(generate_reports(15, seed=5))
    pair.catalogue_writer.record_batch(reports)
    before = pair.catalogue.level_values(Level.FILE_TYPE)
    with _session(pair) as session:
        assert check(session) == []
        entry = next(iter(session.selectattr([f"{V.ROOTTREE}:FILE", f"{V.ROOTTREE}:SHARD"])))
        key, shard = entry
        victim = next(iter(session.selectattr([f"{shard}:FILE"])))[0]
        session.rm(f"{shard}/{victim}")
        session.setattr(f"{V.ROOTTREE}/{key}", {"NBEVENTS": 123456789})
        differences = check(session)
        assert any(f"file {victim} is missing" in line for line in differences)
        assert any(line.startswith(f"{key}: summary") for line in differences)
        assert rebuild(session) > 0
        assert check(session) == []
    assert CatalogueBookkeeping(pair.engine).level_values(Level.FILE_TYPE) == before


def test_racing_writers_share_one_entry_and_shard_per_combination(pair: Pair) -> None:
    combo = V.Combination("LHCb", "Collision12", "Beam", "Real Data", 90000000, "RAW", "CERN")
    with _session(pair) as session:
        ensure_view_layout(session)
    shards: list[str] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        with _session(pair) as session:
            barrier.wait()
            shards.append(ensure_combination(session, combo, "Full stream"))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(shards) == 4 and len(set(shards)) == 1
    with _session(pair) as session:
        assert len(list(session.selectattr([f"{V.ROOTTREE}:FILE"]))) == 1
        claims = list(session.selectattr([f"{V.SHARD_CLAIMS}:NUMBER"]))
        assert [int(n) for (n,) in claims] == [int(shards[0].removeprefix(V.SHARD_PREFIX))]


def _statements(reader: CatalogueBookkeeping, call, *, cold: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Statements ``call`` sends with the catalogue's directory cache warm (or, ``cold``,
    emptied first). SQLite's emulated BEGIN (engines.py) is not a statement of the call."""
    seen: list[str] = []

    def counter(*arguments: object) -> None:
        if not str(arguments[2]).startswith("BEGIN"):
            seen.append(str(arguments[2]))

    cache = reader.catalogue.cache
    cache.ttl = 3600.0  # no expiry half-way on a slow machine: the count would include it
    call()  # warm the catalogue's directory cache
    if cold:
        cache.invalidate()
    sa.event.listen(reader.engine, "before_cursor_execute", counter)
    try:
        call()
    finally:
        sa.event.remove(reader.engine, "before_cursor_execute", counter)
    return len(seen)


# The schema version's read (once per call), the roottree read and its delta fold (2),
# then one union over the shards for a page of files; level values need no more (the
# session's user and groups are cached). With the directory cache emptied, each of
# /roottree, /roottreeDeltas and the shards (together) costs four statements more.
FILES_STATEMENTS = 4
LEVEL_STATEMENTS = 3
COLD_FILES_STATEMENTS = FILES_STATEMENTS + 3 * 4


def test_round_trips_per_selection_do_not_grow_with_the_database(pair: Pair) -> None:
    reports = list(generate_reports(400, seed=9))
    writer = pair.catalogue_writer
    catalogue = CatalogueBookkeeping(pair.engine)
    # Real data: a few combinations at first (RAW of each condition), many more later
    # (reconstructed and stripped files).
    path = DatasetPath(config_name="LHCb")

    def shards() -> int:
        with _session(pair) as session:
            return len(matching_entries(session, path))

    writer.record_batch(reports[:30])
    small_files, small_shards = catalogue.files(path).total_files, shards()
    small = [
        _statements(catalogue, lambda: catalogue.files(path, limit=20)),
        _statements(catalogue, lambda: catalogue.level_values(Level.PROCESSING_PASS, path)),
        _statements(catalogue, lambda: catalogue.files(path, limit=20), cold=True),
    ]
    writer.record_batch(reports[30:])
    assert catalogue.files(path).total_files > 3 * small_files
    assert shards() > small_shards > 1
    large = [
        _statements(catalogue, lambda: catalogue.files(path, limit=20)),
        _statements(catalogue, lambda: catalogue.level_values(Level.PROCESSING_PASS, path)),
        _statements(catalogue, lambda: catalogue.files(path, limit=20), cold=True),
    ]
    assert small == large == [FILES_STATEMENTS, LEVEL_STATEMENTS, COLD_FILES_STATEMENTS]


def test_a_production_filter_costs_at_most_one_more_statement(pair: Pair) -> None:
    """Entries inside the filter answer from their summaries; entries straddling it are
    counted in their shards, all together."""
    reports = list(generate_reports(120, seed=3))
    # Half of each production's jobs moved to another production: every combination then
    # spans two productions, so a filter on one of them cuts through every entry.
    moved = [
        dataclasses.replace(r, production=r.production + 5) if i % 2 else r
        for i, r in enumerate(reports)
    ]
    pair.catalogue_writer.record_batch(moved)
    pair.warehouse_writer.record_batch(moved)
    catalogue = CatalogueBookkeeping(pair.engine)
    production = moved[0].production
    inside = DatasetPath(config_name=moved[0].config_name, production_range=(0, 10**8))
    straddling = DatasetPath(config_name=moved[0].config_name, production=production)
    assert _statements(catalogue, lambda: catalogue.files(inside, limit=5)) == FILES_STATEMENTS
    assert (
        _statements(catalogue, lambda: catalogue.files(straddling, limit=5)) == FILES_STATEMENTS + 1
    )
    assert (
        _statements(catalogue, lambda: catalogue.level_values(Level.PRODUCTION, inside))
        == LEVEL_STATEMENTS + 1
    )


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    shift=st.integers(1, 3),
    order=st.sampled_from(["lfn", "size", "events", "run", "production", "creation", "file_id"]),
    descending=st.booleans(),
    offset=st.integers(0, 12),
    limit=st.none() | st.integers(0, 25),
)
def test_selections_over_entries_spanning_productions_match_the_warehouse(
    backend: str,
    seed: int,
    shift: int,
    order: str,
    descending: bool,
    offset: int,
    limit: int | None,
) -> None:
    reports = list(generate_reports(80, seed))
    moved = [
        dataclasses.replace(r, production=r.production + shift) if i % 3 == 0 else r
        for i, r in enumerate(reports)
    ]
    with fresh_pair(backend) as pair:
        pair.warehouse_writer.record_batch(moved)
        pair.catalogue_writer.record_batch(moved)
        productions = sorted({r.production for r in moved})
        paths = [
            DatasetPath(),
            DatasetPath(config_name="LHCb"),
            DatasetPath(production=productions[0]),
            DatasetPath(production=productions[-1] + 100),
            DatasetPath(production_range=(productions[0] + 1, productions[-1] - 1)),
            DatasetPath(config_name="MC", production_range=(0, productions[len(productions) // 2])),
        ]
        for path in paths:
            for level in Level:
                assert pair.catalogue.level_values(level, path) == pair.warehouse.level_values(
                    level, path
                ), (level, path)
            kwargs = {"offset": offset, "limit": limit, "order_by": order, "descending": descending}
            assert pair.catalogue.files(path, **kwargs) == pair.warehouse.files(path, **kwargs)
            assert list(pair.catalogue.iter_files(path, order_by=order)) == list(
                pair.warehouse.iter_files(path, order_by=order)
            )


def test_views_cli_checks_and_rebuilds(pair: Pair) -> None:
    pair.catalogue_writer.record_batch(list(generate_reports(6, seed=4)))
    url = pair.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(main, ["views", "check", "--db", url])
    assert result.exit_code == 0, result.output
    with _session(pair) as session:
        session.setattr(f"{V.ROOTTREE}/*", {"FILES": 999})
    result = runner.invoke(main, ["views", "check", "--db", url])
    assert result.exit_code == 1 and "summary" in result.output
    result = runner.invoke(main, ["views", "rebuild", "--db", url])
    assert result.exit_code == 0 and "Rebuilt" in result.output
    assert runner.invoke(main, ["views", "check", "--db", url]).exit_code == 0


def test_every_shard_has_its_ordered_indexes_and_check_names_a_missing_one(pair: Pair) -> None:
    pair.catalogue_writer.record_batch(list(generate_reports(12, seed=4)))
    with _session(pair) as session:
        shards = sorted({str(s) for (s,) in session.selectattr([f"{V.ROOTTREE}:SHARD"])})
        assert len(shards) > 1
        for shard in shards:
            listed = {index.attributes for index in session.list_indexes(shard)}
            assert listed == set(V.SHARD_INDEXES), shard
        victim = next(i for i in session.list_indexes(shards[0]) if i.attributes[0] == "FSIZ")
        session.drop_index(shards[0], victim.name)
        assert check(session) == [
            f"{shards[0]} ({_key_of(session, shards[0])}): index on FSIZ, FILE_ID is missing"
            " (bk views index adds it)"
        ]
    url = pair.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(main, ["views", "check", "--db", url])
    assert result.exit_code == 1 and "index on FSIZ, FILE_ID is missing" in result.output
    result = runner.invoke(main, ["views", "index", "--db", url])
    assert result.exit_code == 0 and "Created 1 indexes." in result.output, result.output
    assert runner.invoke(main, ["views", "check", "--db", url]).exit_code == 0
    result = runner.invoke(main, ["views", "index", "--db", url])
    assert result.exit_code == 0 and "Created 0 indexes." in result.output, result.output


def _key_of(session: CatalogueSession, shard: str) -> str:
    found = session.selectattr([f"{V.ROOTTREE}:FILE"], f'{V.ROOTTREE}:SHARD = "{shard}"')
    return str(next(iter(found))[0])


_SELECTABLE = {
    "config_name": "config",
    "config_version": "config_version",
    "conditions": "conditions",
    "processing_pass": "processing_pass",
    "event_type": "event_type",
    "file_type": "file_type",
    "location": "location",
    "program": "program0",
    "input_file_type": "input_file0",
}


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_a_selection_by_any_roottree_attributes_is_the_union_of_its_combinations(
    backend: str, data: st.DataObject, seed: int
) -> None:
    """Selections by location, program, input type and description too (what only the views
    record), against what a rebuild derives from the bookkeeping directories."""
    reports = list(generate_reports(40, seed))
    with fresh_pair(backend) as pair:
        pair.catalogue_writer.record_batch(reports)
        lfns = [r.lfn for r in pair.catalogue.files(DatasetPath()).files]
        moved = data.draw(st.lists(st.sampled_from(lfns), max_size=6, unique=True), "moved")
        if moved:  # their first copy at another site: another LOCATION
            pair.catalogue_writer.add_replicas(moved, ReplicaSpec("ELSEWHERE", "disk"))
            for lfn in moved:
                record = pair.catalogue.file_by_lfn(lfn)
                assert record is not None
                for copy in pair.catalogue.replicas(record.file_id):
                    if copy.site != "ELSEWHERE":
                        key = ReplicaKey(copy.site, copy.storage_class, copy.area)
                        pair.catalogue_writer.remove_replicas([lfn], key)
        with _session(pair) as session:
            expected = derive_all(session)
            combos = [(item.combination, item.description) for item in expected.values()]
            assert any(c.location == "ELSEWHERE" for c, _ in combos) == bool(moved)
            for _ in range(8):
                fields: dict[str, object] = {}
                for field, attribute in _SELECTABLE.items():
                    if data.draw(st.booleans(), f"select by {field}"):
                        values = sorted({getattr(c, attribute) for c, _ in combos})
                        fields[field] = data.draw(st.sampled_from([*values, "none such"]))
                if data.draw(st.booleans(), "by description"):
                    fields["event_description"] = data.draw(st.sampled_from([d for _, d in combos]))
                if fields.get("event_type") == "none such":
                    fields["event_type"] = 0  # an event type no file has
                if data.draw(st.booleans(), "production range"):
                    productions = sorted({int(v["PRODUCTION"]) for e in expected.values()
                                          for v in e.files.values()})  # fmt: skip
                    low = data.draw(st.sampled_from(productions))
                    fields["production_range"] = (low, low + data.draw(st.integers(0, 20)))
                selection = ViewSelection(**fields)  # type: ignore[arg-type]
                wanted = {
                    file_id: values
                    for item in expected.values()
                    if _matches(item.combination, item.description, selection)
                    for file_id, values in item.files.items()
                    if _in_range(int(values["PRODUCTION"]), selection)  # type: ignore[call-overload]
                }
                page = view_files(session, selection, 0, None, "file_id", False)
                assert [r.file_id for r in page.files] == sorted(wanted), selection
                assert page.total_files == len(wanted)
                assert page.total_bytes == sum(int(v["FSIZ"]) for v in wanted.values())  # type: ignore[call-overload]


def _matches(combo: V.Combination, description: str, selection: ViewSelection) -> bool:
    for field, attribute in _SELECTABLE.items():
        wanted = getattr(selection, field)
        if wanted is not None and getattr(combo, attribute) != wanted:
            return False
    return selection.event_description in (None, description)


def _in_range(production: int, selection: ViewSelection) -> bool:
    if selection.production_range is None:
        return True
    first, last = selection.production_range
    return first <= production <= last


def test_views_select_prints_the_selection_and_refuses_bad_ranges(pair: Pair) -> None:
    pair.catalogue_writer.record_batch(list(generate_reports(20, seed=4)))
    dsts = pair.catalogue.files(DatasetPath(file_type="DST"), limit=2, order_by="lfn")
    url = pair.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(main, ["views", "select", "--db", url, "--file-type", "DST",
                                  "--location", "CERN", "--limit", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{dsts.total_files} files, {dsts.total_events} events")
    assert [line.split()[0] for line in lines[1:]] == [r.lfn for r in dsts.files]
    result = runner.invoke(main, ["views", "select", "--db", url, "--file-type", "DST",
                                  "--location", "NOWHERE", "--format", "csv"])  # fmt: skip
    assert result.exit_code == 0 and result.output.splitlines() == [
        "file_id,lfn,size,events,production,run,guid,visible"
    ]
    result = runner.invoke(main, ["views", "select", "--db", url, "--productions", "9-1"])
    assert result.exit_code == 2 and "FIRST is after LAST" in result.output
