"""``mark_copies_at``: the copies an SE reports, marked by path in one transaction, alike in
both implementations; ``then`` commits or rolls back with the marks."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.errors import ValidationError
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, ReplicaSpec
from bookkeeping.writer.changes import MarkedCopies
from tests.catalogue_bookkeeping.conftest import Pair

SE = "SE-SITE-DISK"


def _setup(pair: Pair) -> list[str]:
    reports = list(generate_reports(6, seed=5))
    lfns: list[str] = []
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        writer.record_batch(reports)
        lfns = [record.lfn for record in pair.warehouse.files(DatasetPath()).files][:4]
        disk = ReplicaSpec("SE-SITE", "disk", se=SE)
        assert writer.add_replicas_at({lfn: f"/disk{lfn}" for lfn in lfns}, disk) == 4
        # a second copy of the first file on the same SE, at another path: never marked
        other = ReplicaSpec("SE-SITE", "tape", se=SE)
        assert writer.add_replicas_at({lfns[0]: f"/other{lfns[0]}"}, other) == 1
    return lfns


def _statuses(pair: Pair, lfn: str) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for reader in (pair.warehouse, pair.catalogue):
        record = reader.file_by_lfn(lfn)
        assert record is not None
        copies = reader.replicas(record.file_id)
        mine = {(str(r.storage_class), r.path): r.status for r in copies if r.se == SE}
        assert not found or mine == found, "the implementations differ"
        found = mine
    return found


def test_marks_by_path_alike_and_idempotent(pair: Pair) -> None:
    lfns = _setup(pair)
    asked = {f"/disk{lfn}": lfn for lfn in lfns[:3]}
    asked["/disk/not/there.dst"] = "/not/there.dst"  # no such file
    asked[f"/elsewhere{lfns[3]}"] = lfns[3]  # a file, but no copy of it at that path
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        marked = writer.mark_copies_at(SE, asked, "lost")
        assert marked == MarkedCopies({f"/disk{lfn}": lfn for lfn in lfns[:3]}, 3)
        again = writer.mark_copies_at(SE, asked, "lost")
        assert again == MarkedCopies(marked.found, 0)
        assert writer.mark_copies_at("OTHER-SE", asked, "lost") == MarkedCopies({}, 0)
    first = _statuses(pair, lfns[0])
    assert first[("disk", f"/disk{lfns[0]}")] == "lost"
    assert first[("tape", f"/other{lfns[0]}")] == "available"  # the other copy: untouched
    assert _statuses(pair, lfns[3])[("disk", f"/disk{lfns[3]}")] == "available"
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        # the file whose other copy is not asked for: only the copy at the path changes
        assert writer.mark_copies_at(SE, {f"/disk{lfns[0]}": lfns[0]}, "bad").changed == 1
    first = _statuses(pair, lfns[0])
    assert first == {("disk", f"/disk{lfns[0]}"): "bad", ("tape", f"/other{lfns[0]}"): "available"}
    # the views' copy folds follow the statuses (the catalogue's share reads them)
    for path in (DatasetPath(), DatasetPath(site="SE-SITE"), DatasetPath(storage="disk")):
        assert pair.catalogue.storage_share(path) == pair.warehouse.storage_share(path), path
    session = Catalogue(pair.engine).session("root")
    try:
        assert check(session) == []
    finally:
        session.close()


def test_then_commits_and_rolls_back_with_the_marks(pair: Pair) -> None:
    lfns = _setup(pair)
    asked = {f"/disk{lfns[1]}": lfns[1]}
    seen: list[MarkedCopies] = []

    def failing(connection: Connection, marked: MarkedCopies) -> None:
        assert connection.in_transaction()
        seen.append(marked)
        raise RuntimeError("the caller's write failed")

    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        seen.clear()
        with pytest.raises(RuntimeError):
            writer.mark_copies_at(SE, asked, "lost", then=failing)
        assert seen == [MarkedCopies(asked, 1)]
    assert _statuses(pair, lfns[1])[("disk", f"/disk{lfns[1]}")] == "available"
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        seen.clear()
        writer.mark_copies_at(SE, asked, "lost", then=lambda c, m: seen.append(m))
        assert [m.found for m in seen] == [asked]
    assert _statuses(pair, lfns[1])[("disk", f"/disk{lfns[1]}")] == "lost"


@pytest.mark.parametrize(
    ("se", "asked", "status"),
    [
        (SE, {"/p": "/l"}, "gone"),  # not a replica status
        ("", {"/p": "/l"}, "lost"),  # no storage element
        (SE, {"/p": 7}, "lost"),  # an LFN that is not a string
    ],
)
def test_bad_arguments_are_refused(pair: Pair, se: str, asked: dict, status: str) -> None:
    for writer in (pair.warehouse_writer, pair.catalogue_writer):
        with pytest.raises(ValidationError):
            writer.mark_copies_at(se, asked, status)
