"""Visibility and replica changes: both implementations change and refuse alike, the views
follow (``check`` finds nothing: incremental state equals a rebuild), a refused change
changes nothing anywhere, and changes run safely beside writers and each other.

The hypothesis test interleaves recordings with random changes (valid and invalid) and
holds both implementations to the same outcome of every call, then asks both readers every
question of the equivalence test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.bookkeeping import CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.errors import BookkeepingError, ValidationError
from bookkeeping.generator import generate_reports
from bookkeeping.interface import (
    BookkeepingWriter,
    DatasetPath,
    ListingQuery,
    Replica,
    ReplicaKey,
    ReplicaSpec,
)
from bookkeeping.writer.changes import ReplicaConflict, UnknownFile, UnknownReplica
from bookkeeping.writer.lifecycle import LIFE_CYCLE_STATES, LifeCycleError
from tests.catalogue_bookkeeping.conftest import Pair, fresh_pair
from tests.catalogue_bookkeeping.test_equivalence import _ask_everything, _perturb, _record
from tests.conftest import BACKENDS

SITES = ("CERN", "RAL", "PIC", "NEW-SITE")
AREAS = ("f0a 14", "f0b 15")
UNKNOWN_LFN = "/lhcb/not/recorded.dst"
STORAGE = (
    ("", ""),
    ("CERN-DISK", "/lhcb/data/x.dst"),
    ("CERN-TAPE", "/lhcb/data/y.dst"),
    ("CERN-DISK", ""),
    ("", "/lhcb/data/x.dst"),
    ("CERN-DISK", "/lhcb/../etc/passwd"),
)

_settings = settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def _session(pair: Pair) -> Any:
    session = Catalogue(pair.engine).session("root")
    try:
        yield session
    finally:
        session.close()


def _outcome(call: Callable[[], int]) -> tuple[str, object]:
    try:
        return "changed", call()
    except BookkeepingError as exc:
        return "refused", type(exc).__name__


def _lfns(pair: Pair) -> list[str]:
    return [record.lfn for record in pair.warehouse.files(DatasetPath()).files]


def _copy_keys(pair: Pair, lfns: list[str]) -> list[ReplicaKey]:
    keys = set()
    for lfn in lfns:
        record = pair.warehouse.file_by_lfn(lfn)
        assert record is not None
        keys.update(
            ReplicaKey(r.site, r.storage_class, r.area)
            for r in pair.warehouse.replicas(record.file_id)
        )
    return sorted(keys)


def _draw_key(data: st.DataObject, pair: Pair, lfns: list[str]) -> ReplicaKey:
    existing = _copy_keys(pair, lfns)
    if existing and data.draw(st.booleans(), "a copy the files have"):
        return data.draw(st.sampled_from(existing), "copy")
    storage_class = data.draw(st.sampled_from(["tape", "disk", "recall"]), "class")
    area = data.draw(st.sampled_from(AREAS), "area") if storage_class == "recall" else ""
    return ReplicaKey(data.draw(st.sampled_from(SITES), "site"), storage_class, area)


def _draw_call(data: st.DataObject, pair: Pair) -> tuple[str, Callable[[BookkeepingWriter], int]]:
    known = _lfns(pair)
    chosen = data.draw(st.lists(st.sampled_from(known), min_size=1, max_size=4), "files")
    unknown = data.draw(st.integers(0, 9), "unknown file?") == 0
    lfns = [*chosen, UNKNOWN_LFN] if unknown else chosen
    kinds = ["hide", "show", "add", "remove", "change", "open", "closed", "archived"]
    kind = data.draw(st.sampled_from(kinds), "change")
    if kind in {"hide", "show"}:
        return kind, lambda w: w.set_visibility(lfns, kind == "show")
    if kind in LIFE_CYCLE_STATES:
        return kind, lambda w: w.set_life_cycle(lfns, kind)  # type: ignore[arg-type]
    key = _draw_key(data, pair, chosen)
    status = data.draw(st.sampled_from(["available", "lost", "bogus"]), "status")
    pfn = data.draw(st.sampled_from(["", "srm://se.example/x"]), "pfn")
    # Where the bytes are: none, a storage element and path, or malformed (one without the
    # other, a path escaping the element's root).
    se, path = data.draw(st.sampled_from(STORAGE), "storage element and path")
    if kind == "add":
        spec = ReplicaSpec(key.site, key.storage_class, key.area, status, pfn, se, path)
        return f"add {spec}", lambda w: w.add_replicas(lfns, spec)
    if kind == "remove":
        return f"remove {key}", lambda w: w.remove_replicas(lfns, key)
    area = data.draw(st.none() | st.sampled_from(AREAS), "new area")
    kwargs = {
        "status": data.draw(st.none() | st.just(status), "new status"),
        "pfn": data.draw(st.none() | st.just(pfn), "new pfn"),
        "area": area if key.storage_class == "recall" else None,
        **data.draw(st.sampled_from([{}, {"se": se, "path": path}]), "new storage"),
    }
    return f"change {key} {kwargs}", lambda w: w.change_replicas(lfns, key, **kwargs)


def _all_replicas(pair: Pair) -> None:
    for record in pair.warehouse.files(DatasetPath()).files:
        assert pair.catalogue.replicas(record.file_id) == pair.warehouse.replicas(record.file_id)


@pytest.mark.parametrize("backend", BACKENDS)
@_settings
@given(data=st.data(), files=st.integers(2, 14), seed=st.integers(0, 2**16))
def test_both_implementations_change_alike_and_the_views_follow(
    backend: str, data: st.DataObject, files: int, seed: int
) -> None:
    reports = _perturb(data, list(generate_reports(files, seed)))
    half = len(reports) // 2
    with fresh_pair(backend) as pair:
        _record(data, pair, reports[:half])
        for phase in (reports[half:], []):
            for _ in range(data.draw(st.integers(1, 6), "changes")):
                if not _lfns(pair):
                    break
                described, call = _draw_call(data, pair)
                expected = _outcome(lambda call=call: call(pair.warehouse_writer))
                got = _outcome(lambda call=call: call(pair.catalogue_writer))
                assert got == expected, described
            _record(data, pair, phase)  # recordings go on after changes
        _all_replicas(pair)
        with _session(pair) as session:
            assert check(session) == []
        _ask_everything(data, pair)


def _snapshot(pair: Pair) -> tuple[object, ...]:
    """Everything a change may touch: records, copies, and the views' rows."""
    records = pair.warehouse.files(DatasetPath()).files
    with _session(pair) as session:
        shards = sorted(str(s) for (s,) in session.selectattr([f"{V.ROOTTREE}:SHARD"]))
        view_rows = [
            sorted(map(tuple, session.selectattr([f"{shard}:{a}" for a in V.SHARD_ATTRIBUTES])))
            for shard in shards
        ]
        deltas = sorted(
            map(tuple, session.selectattr([f"{V.DELTAS}:{a}" for a in V.DELTA_ATTRIBUTES]))
        )
    return (
        records,
        pair.warehouse.life_cycle([r.lfn for r in records]),
        pair.catalogue.life_cycle([r.lfn for r in records]),
        pair.catalogue.files(DatasetPath()).files,
        [pair.warehouse.replicas(r.file_id) for r in records],
        [pair.catalogue.replicas(r.file_id) for r in records],
        view_rows,
        deltas,
    )


def test_refused_changes_change_nothing(pair: Pair) -> None:
    reports = list(generate_reports(12, seed=4))
    pair.warehouse_writer.record_batch(reports)
    pair.catalogue_writer.record_batch(reports)
    lfns = _lfns(pair)
    first = pair.warehouse.file_by_lfn(lfns[0])
    assert first is not None
    copy = pair.warehouse.replicas(first.file_id)[0]
    key = ReplicaKey(copy.site, copy.storage_class, copy.area)
    # lfns[1:] lack lfns[0]'s copy, or hold it: either way a later file is at fault.
    bare = [lfn for lfn in lfns if key not in _copy_keys(pair, [lfn])][0]
    refused: list[tuple[Callable[[BookkeepingWriter], int], type[Exception]]] = [
        (lambda w: w.set_visibility([lfns[0], UNKNOWN_LFN], False), UnknownFile),
        (lambda w: w.set_visibility([lfns[0], "not an lfn"], False), ValidationError),
        (lambda w: w.set_life_cycle([lfns[0], UNKNOWN_LFN], "archived"), UnknownFile),
        (lambda w: w.set_life_cycle(lfns, "lost"), ValidationError),  # type: ignore[arg-type]
        (lambda w: w.set_life_cycle([lfns[1], lfns[0]], "open"), LifeCycleError),
        (lambda w: w.set_visibility(lfns[0], False), TypeError),
        (lambda w: w.set_visibility([lfns[0]], "no"), TypeError),  # type: ignore[arg-type]
        (lambda w: w.add_replicas([lfns[0], UNKNOWN_LFN], ReplicaSpec("RAL", "disk")), UnknownFile),
        (lambda w: w.add_replicas(lfns, ReplicaSpec("RAL; DROP", "disk")), ValidationError),
        (lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "floppy")), ValidationError),
        (
            lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "disk", se="RAL-DISK")),
            ValidationError,
        ),
        (
            lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "disk", se="X", path="/a/../b")),
            ValidationError,
        ),
        (lambda w: w.change_replicas(lfns, key, se="RAL-DISK"), ValidationError),
        (lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "recall")), ValidationError),
        (
            lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "disk", status="gone")),
            ValidationError,
        ),
        (
            lambda w: w.add_replicas(lfns, ReplicaSpec("RAL", "disk", pfn="x" * 513)),
            ValidationError,
        ),
        (
            lambda w: w.add_replicas(
                [lfns[0]], ReplicaSpec(key.site, key.storage_class, key.area, "lost", "other")
            ),
            ReplicaConflict,
        ),
        (lambda w: w.remove_replicas([lfns[0], bare], key), UnknownReplica),
        (lambda w: w.remove_replicas(lfns, ReplicaKey("NOWHERE", "tape")), UnknownReplica),
        (lambda w: w.change_replicas([lfns[0], bare], key, status="lost"), UnknownReplica),
        (lambda w: w.change_replicas([lfns[0]], key, status="gone"), ValidationError),
        (
            lambda w: w.change_replicas([lfns[0]], ReplicaKey("CERN", "tape"), area="f0a 1"),
            ValidationError,
        ),
    ]
    before = _snapshot(pair)
    with _session(pair) as session:
        sites = list(session.dir("/replicas"))
    for call, error in refused:
        for writer in (pair.warehouse_writer, pair.catalogue_writer):
            with pytest.raises(error):
                call(writer)
    assert _snapshot(pair) == before
    with _session(pair) as session:
        assert list(session.dir("/replicas")) == sites  # no site directory made on the way
        assert check(session) == []


def test_a_copy_names_its_storage_element_and_path_in_both(pair: Pair) -> None:
    reports = list(generate_reports(6, seed=3))
    pair.warehouse_writer.record_batch(reports)
    pair.catalogue_writer.record_batch(reports)
    lfns = _lfns(pair)[:2]
    spec = ReplicaSpec("SE-SITE", "disk", se="SE-SITE-DISK", path="/lhcb/a/b.dst")
    key = ReplicaKey("SE-SITE", "disk")
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        assert writer.add_replicas(lfns, spec) == 2
        assert writer.add_replicas(lfns, spec) == 0  # the very same copy: nothing
        with pytest.raises(ReplicaConflict):  # the same copy on another element
            writer.add_replicas(lfns, ReplicaSpec("SE-SITE", "disk", se="OTHER", path="/x"))
    _all_replicas(pair)
    record = pair.warehouse.file_by_lfn(lfns[0])
    assert record is not None
    copy = next(r for r in pair.catalogue.replicas(record.file_id) if r.site == "SE-SITE")
    assert (copy.se, copy.path) == ("SE-SITE-DISK", "/lhcb/a/b.dst")
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        assert writer.change_replicas(lfns, key, se="SE-SITE-TAPE", path="/t/b.dst") == 2
        assert writer.change_replicas(lfns, key, se="SE-SITE-TAPE", path="/t/b.dst") == 0
    _all_replicas(pair)
    copy = next(r for r in pair.warehouse.replicas(record.file_id) if r.site == "SE-SITE")
    assert (copy.se, copy.path) == ("SE-SITE-TAPE", "/t/b.dst")
    at = ReplicaSpec("SE-SITE", "tape", se="SE-SITE-TAPE")
    paths = {lfn: f"/tape{lfn}" for lfn in lfns}
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        assert writer.add_replicas_at(paths, at) == 2  # each file at its own path, at once
        assert writer.add_replicas_at(paths, at) == 0
        with pytest.raises(ValidationError):
            writer.add_replicas_at({lfns[0]: "/a/../b"}, at)
        with pytest.raises(ValidationError):
            writer.add_replicas_at({lfns[0]: "/a"}, ReplicaSpec("SE-SITE", "tape"))
    _all_replicas(pair)
    tape = next(r for r in pair.catalogue.replicas(record.file_id) if r.storage_class == "tape"
                and r.site == "SE-SITE")  # fmt: skip
    assert (tape.se, tape.path) == ("SE-SITE-TAPE", f"/tape{lfns[0]}")


def test_changes_are_idempotent_where_natural(pair: Pair) -> None:
    reports = list(generate_reports(8, seed=2))
    pair.warehouse_writer.record_batch(reports)
    pair.catalogue_writer.record_batch(reports)
    lfns = _lfns(pair)[:3]
    spec = ReplicaSpec("NEW-SITE", "disk", pfn="srm://new/x")
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        assert writer.set_visibility(lfns, False) == 3
        assert writer.set_visibility([*lfns, lfns[0]], False) == 0
        assert writer.add_replicas(lfns, spec) == 3
        assert writer.add_replicas(lfns, spec) == 0
        assert writer.change_replicas(lfns, ReplicaKey("NEW-SITE", "disk"), status="lost") == 3
        assert writer.change_replicas(lfns, ReplicaKey("NEW-SITE", "disk"), status="lost") == 0
        assert writer.remove_replicas(lfns, ReplicaKey("NEW-SITE", "disk")) == 3
        with pytest.raises(UnknownReplica):
            writer.remove_replicas(lfns, ReplicaKey("NEW-SITE", "disk"))
        assert writer.set_visibility([], True) == 0
        assert writer.set_life_cycle(lfns, "closed") == 0  # a finished job's output
        assert writer.set_life_cycle(lfns[:2], "archived") == 2
        assert writer.set_life_cycle(lfns, "archived") == 1
        with pytest.raises(LifeCycleError):
            writer.set_life_cycle(lfns, "closed")
    for reader in (pair.warehouse, pair.catalogue):
        assert reader.life_cycle([*lfns, UNKNOWN_LFN]) == dict.fromkeys(lfns, "archived")
    _all_replicas(pair)
    assert pair.catalogue.files(DatasetPath()) == pair.warehouse.files(DatasetPath())


def _roottree_location(pair: Pair, file_id: int) -> str:
    """LOCATION of the roottree entry whose shard holds the file."""
    with _session(pair) as session:
        for location, shard in session.selectattr(
            [f"{V.ROOTTREE}:LOCATION", f"{V.ROOTTREE}:SHARD"]
        ):
            if list(session.selectattr([f"{shard}:FILE"], f'{shard}:FILE = "{file_id}"')):
                return str(location)
    raise AssertionError(f"file {file_id} is in no shard")


def test_the_first_copy_decides_the_location_and_files_move(pair: Pair) -> None:
    reports = list(generate_reports(10, seed=6))
    pair.catalogue_writer.record_batch(reports)
    pair.warehouse_writer.record_batch(reports)
    record = pair.catalogue.files(DatasetPath()).files[0]
    writer = pair.catalogue_writer
    copies = pair.catalogue.replicas(record.file_id)
    first_site = _roottree_location(pair, record.file_id)
    assert first_site in {c.site for c in copies}
    for copy in copies:  # every copy gone: no location
        key = ReplicaKey(copy.site, copy.storage_class, copy.area)
        for w in (writer, pair.warehouse_writer):
            assert w.remove_replicas([record.lfn], key) == 1
    assert _roottree_location(pair, record.file_id) == ""
    for site in ("PIC", "CERN"):  # the first copy added decides, a second does not
        for w in (writer, pair.warehouse_writer):
            assert w.add_replicas([record.lfn], ReplicaSpec(site, "disk")) == 1
        assert _roottree_location(pair, record.file_id) == "PIC"
    for w in (writer, pair.warehouse_writer):
        assert w.remove_replicas([record.lfn], ReplicaKey("PIC", "disk")) == 1
    assert _roottree_location(pair, record.file_id) == "CERN"
    with _session(pair) as session:
        assert check(session) == []
    assert pair.catalogue.file_by_id(record.file_id) == pair.warehouse.file_by_id(record.file_id)
    for path in (DatasetPath(), DatasetPath(config_name=reports[0].config_name)):
        assert pair.catalogue.files(path) == pair.warehouse.files(path)


def test_changes_beside_writers_and_each_other(pair: Pair) -> None:
    """A writer records while two others change files (overlapping ones): nothing fails,
    every change is there, the views agree with a rebuild."""
    reports = list(generate_reports(60, seed=11))
    early, late = reports[:30], reports[30:]
    pair.catalogue_writer.record_batch(early)
    lfns = [record.lfn for record in pair.catalogue.files(DatasetPath(), limit=20).files]
    assert len(lfns) == 20
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run(work: Callable[[CatalogueWriter], None]) -> None:
        try:
            writer = CatalogueWriter(pair.engine)
            barrier.wait()
            work(writer)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    def record(writer: CatalogueWriter) -> None:
        for start in range(0, len(late), 5):
            assert all(r.ok for r in writer.record_batch(late[start : start + 5]))

    def hide_and_add(writer: CatalogueWriter) -> None:
        for lfn in lfns:
            writer.set_visibility([lfn], False)
            writer.add_replicas([lfn], ReplicaSpec("SITE-A", "disk"))

    def add_elsewhere(writer: CatalogueWriter) -> None:
        for lfn in reversed(lfns):
            writer.add_replicas([lfn], ReplicaSpec("SITE-B", "tape"))

    threads = [
        threading.Thread(target=run, args=(work,)) for work in (record, hide_and_add, add_elsewhere)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for lfn in lfns:
        record_ = pair.catalogue.file_by_lfn(lfn)
        assert record_ is not None and not record_.visible
        sites = [(r.site, r.storage_class) for r in pair.catalogue.replicas(record_.file_id)]
        assert ("SITE-A", "disk") in sites and ("SITE-B", "tape") in sites
    with _session(pair) as session:
        assert check(session) == []
        # every copy has its own position: one LOCATION per file, whatever the interleaving
        names = [
            str(n)
            for site in ("SITE-A", "SITE-B")
            for (n,) in session.selectattr([f"/replicas/{site}:FILE"])
        ]
        positions = [(n.rsplit("_", 1)[0], n.rsplit("_", 1)[1]) for n in names]
        assert len(set(positions)) == len(positions)
    assert pair.catalogue.files(DatasetPath()).total_files == sum(
        len(r.output_files) for r in reports
    )


def test_lock_waits_for_a_concurrent_change_of_the_same_files(pair: Pair) -> None:
    """Two changes of the same files take turns: the second sees the first's copy."""
    reports = list(generate_reports(6, seed=1))
    pair.catalogue_writer.record_batch(reports)
    lfns = [record.lfn for record in pair.catalogue.files(DatasetPath(), limit=4).files]
    assert len(lfns) == 4
    spec = ReplicaSpec("SITE-C", "disk", pfn="srm://c")
    results: list[int] = []
    barrier = threading.Barrier(4)

    def add() -> None:
        writer = CatalogueWriter(pair.engine)
        barrier.wait()
        results.append(writer.add_replicas(lfns, spec))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 4]
    with _session(pair) as session:
        assert len(list(session.selectattr(["/replicas/SITE-C:FILE"]))) == 4
        assert check(session) == []


def test_a_site_directory_still_being_created_holds_no_copies(pair: Pair) -> None:
    """A writer creates a site's directory, then its attributes, then records copies there;
    readers and changes that list the sites in between see the directory without its
    attributes and must read it as holding no copies (not fail)."""
    reports = list(generate_reports(6, seed=1))
    pair.warehouse_writer.record_batch(reports)
    pair.catalogue_writer.record_batch(reports)
    record = pair.catalogue.files(DatasetPath(), limit=1).files[0]
    with _session(pair) as session:
        session.createdir("/replicas/HALF-MADE")  # as a racing writer leaves it, for now
    assert pair.catalogue.replicas(record.file_id) == pair.warehouse.replicas(record.file_id)
    spec = ReplicaSpec("SITE-D", "disk", pfn="srm://d")
    assert pair.catalogue_writer.add_replicas([record.lfn], spec) == 1
    assert Replica("SITE-D", "disk", "", "available", "srm://d") in pair.catalogue.replicas(
        record.file_id
    )
    listing = ListingQuery(record.file_type)
    assert pair.catalogue.count_listing(listing) == pair.warehouse.count_listing(listing)
