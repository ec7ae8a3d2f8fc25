"""``bk file hide|show`` and ``bk replica add|remove|change`` through click's CliRunner, on
every back-end: both implementations changed, errors named with exit status 1 and
nothing changed, the views still what a rebuild would make."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.cli import main
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Replica
from bookkeeping.scratch import ScratchDatabase
from tests.catalogue_bookkeeping.conftest import Pair, make_pair

REPORTS = list(generate_reports(20, seed=5))  # 6 of its files visible


@pytest.fixture
def pair(engine: Engine) -> Pair:
    return make_pair(engine)


def _bk(backend: ScratchDatabase, *arguments: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*arguments, "--db", backend.url], input=stdin)
    return result.exit_code, result.output


def _recorded(pair: Pair) -> list[str]:
    """Record ``REPORTS`` in both implementations; the LFNs of the visible files (the
    generator makes some files invisible, as productions do)."""
    pair.warehouse_writer.record_batch(REPORTS)
    pair.catalogue_writer.record_batch(REPORTS)
    return [record.lfn for record in pair.warehouse.files(DatasetPath()).files if record.visible]


def _visibility(pair: Pair) -> list[list[tuple[str, bool]]]:
    return [
        [(record.lfn, record.visible) for record in reader.files(DatasetPath()).files]
        for reader in (pair.warehouse, pair.catalogue)
    ]


def _views_agree(engine: Engine) -> None:
    session = Catalogue(engine).session("root")
    try:
        assert check(session) == []
    finally:
        session.close()


def test_hide_and_show(backend: ScratchDatabase, pair: Pair, tmp_path: Path) -> None:
    lfns = _recorded(pair)
    code, output = _bk(backend, "file", "hide", "--backend", "both", *lfns[:3])
    assert code == 0, output
    assert "warehouse: 3 of 3 files made invisible" in output
    assert "catalogue: 3 of 3 files made invisible" in output
    listed = tmp_path / "lfns.txt"
    listed.write_text("\n".join(lfns[:5]) + "\n\n")
    code, output = _bk(backend, "file", "show", "--backend", "both", "--from", str(listed))
    assert code == 0 and "catalogue: 3 of 5 files made visible" in output, output
    code, output = _bk(backend, "file", "hide", "--from", "-", stdin=lfns[0] + "\n")
    assert code == 0 and "catalogue: 1 of 1 files made invisible" in output, output
    for reader in (pair.warehouse, pair.catalogue):
        visible = [reader.file_by_lfn(lfn).visible for lfn in lfns[:5]]  # type: ignore[union-attr]
        assert visible == ([True] * 5 if reader is pair.warehouse else [False] + [True] * 4)
    _views_agree(pair.engine)


def test_replica_add_change_remove(backend: ScratchDatabase, pair: Pair) -> None:
    lfns = _recorded(pair)[:2]
    copy = ["--site", "NEW-SITE", "--class", "recall", "--area", "f0c 16"]
    code, output = _bk(backend, "replica", "add", "--backend", "both", *copy, *lfns)
    assert code == 0 and "catalogue: 2 of 2 files got the copy" in output, output
    code, output = _bk(
        backend, "replica", "change", "--backend", "both", *copy, "--status", "lost",
        "--new-area", "f0d 17", *lfns,
    )  # fmt: skip
    assert code == 0 and "warehouse: 2 of 2 files changed" in output, output
    for reader in (pair.warehouse, pair.catalogue):
        record = reader.file_by_lfn(lfns[0])
        assert record is not None
        assert Replica("NEW-SITE", "recall", "f0d 17", "lost", "") in reader.replicas(
            record.file_id
        )
    moved = ["--site", "NEW-SITE", "--class", "recall", "--area", "f0d 17"]
    code, output = _bk(backend, "replica", "remove", "--backend", "both", *moved, *lfns)
    assert code == 0 and "catalogue: 2 of 2 files lost the copy" in output, output
    _views_agree(pair.engine)


def test_errors_are_named_and_change_nothing(backend: ScratchDatabase, pair: Pair) -> None:
    lfns = _recorded(pair)
    before = _visibility(pair)
    unknown = "/lhcb/none/such.dst"
    code, output = _bk(backend, "file", "hide", "--backend", "both", lfns[0], unknown)
    assert code == 1 and unknown in output and "no such file" in output, output
    code, output = _bk(backend, "replica", "add", "--site", "a b", "--class", "disk", lfns[0])
    assert code == 1 and "'a b' is not a site name" in output, output
    code, output = _bk(backend, "replica", "remove", "--site", "X", "--class", "tape", lfns[0])
    assert code == 1 and f"{lfns[0]} has no tape copy at X" in output, output
    code, output = _bk(backend, "replica", "change", "--site", "X", "--class", "tape", lfns[0])
    assert code == 2 and "--status, --pfn or --new-area" in output, output
    code, output = _bk(backend, "file", "hide")
    assert code == 2 and "at least one LFN" in output, output
    assert _visibility(pair) == before
    _views_agree(pair.engine)
