"""put_file / get_file and --materialise against both bookkeeping implementations on one
database: bytes before rows, verified reads, errors naming SE and file, nothing changed."""

from __future__ import annotations

import io
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath
from bookkeeping.storage.batch import get_files, put_files
from bookkeeping.storage.checksum import adler32_of_file, format_adler32
from bookkeeping.storage.errors import (
    ChecksumMismatch,
    InvalidStorageElement,
    StorageExists,
    UnknownStorageElement,
    UnsafePath,
)
from bookkeeping.storage.materialise import Materialiser
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.storage.transfer import get_file, put_file
from bookkeeping.writer.changes import ReplicaConflict, UnknownFile
from bookkeeping.writer.model import OutputFileSpec
from tests.catalogue_bookkeeping.conftest import Pair

DATA = b"the real bytes of a file" * 100


def _record_one(pair: Pair, data: bytes = DATA) -> str:
    """One generated report whose first output file has ``data``'s size and adler32."""
    report = next(iter(generate_reports(1, seed=11)))
    first = report.output_files[0]
    output: OutputFileSpec = replace(
        first, size=len(data), checksum=format_adler32(zlib.adler32(data)), replicas=()
    )
    report = replace(report, output_files=(output,))
    pair.warehouse_writer.record(report)
    pair.catalogue_writer.record(report)
    return output.lfn


@pytest.fixture
def registry(pair: Pair, tmp_path: Path) -> StorageRegistry:
    registry = StorageRegistry(pair.engine)
    registry.add("CERN-DISK", f"file://{tmp_path}/disk", "offline", site="CERN")
    registry.add("CERN-RECALL", f"file://{tmp_path}/recall", "recall", site="CERN")
    registry.add("CERN-TAPE", f"tape://{tmp_path}/tape?drives=1", "tape", site="CERN")
    registry.add("NOSITE", f"file://{tmp_path}/nosite", "offline")
    for name in ("disk", "recall", "nosite"):
        (tmp_path / name).mkdir()
    return registry


def _writers(pair: Pair) -> list:
    return [pair.warehouse_writer, pair.catalogue_writer]


def _copies(pair: Pair, lfn: str) -> tuple:
    record = pair.warehouse.file_by_lfn(lfn)
    assert record is not None
    copies = pair.warehouse.replicas(record.file_id)
    assert copies == pair.catalogue.replicas(record.file_id)
    return copies


def test_put_then_get_from_the_best_copy(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    local = tmp_path / "local.dst"
    local.write_bytes(DATA)
    put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-TAPE")
    put_file(pair.catalogue, _writers(pair), registry, local, lfn, "CERN-RECALL", area="f0a 14")
    copies = _copies(pair, lfn)
    assert {(c.storage_class, c.se, c.path, c.area) for c in copies} == {
        ("tape", "CERN-TAPE", lfn, ""),
        ("recall", "CERN-RECALL", lfn, "f0a 14"),
    }
    got = get_file(pair.catalogue, registry, lfn, tmp_path / "out.dst")
    assert got.se == "CERN-RECALL"  # a recalled copy before tape
    assert (tmp_path / "out.dst").read_bytes() == DATA
    put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK")
    stream = io.BytesIO()
    assert get_file(pair.warehouse, registry, lfn, stream).se == "CERN-DISK"
    assert stream.getvalue() == DATA
    # Putting it again changes nothing; the copy is there with the same bytes.
    put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK")
    assert len(_copies(pair, lfn)) == 3


def test_wrong_bytes_unknown_file_or_se_change_nothing(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    wrong = tmp_path / "wrong.dst"
    wrong.write_bytes(DATA[:-1] + b"X")  # same size, other adler32
    with pytest.raises(ChecksumMismatch) as caught:
        put_file(pair.warehouse, _writers(pair), registry, wrong, lfn, "CERN-DISK")
    assert "CERN-DISK" in str(caught.value) and lfn in str(caught.value)
    short = tmp_path / "short.dst"
    short.write_bytes(DATA[:10])
    with pytest.raises(ChecksumMismatch) as caught:
        put_file(pair.warehouse, _writers(pair), registry, short, lfn, "CERN-DISK")
    assert str(short) in str(caught.value)
    with pytest.raises(UnknownFile) as unknown:
        put_file(pair.warehouse, _writers(pair), registry, wrong, "/lhcb/no/x.dst", "CERN-DISK")
    assert "/lhcb/no/x.dst" in str(unknown.value)
    with pytest.raises(UnknownStorageElement):
        put_file(pair.warehouse, _writers(pair), registry, wrong, lfn, "NOWHERE")
    with pytest.raises(InvalidStorageElement):
        put_file(pair.warehouse, _writers(pair), registry, wrong, lfn, "NOSITE")
    good = tmp_path / "good.dst"
    good.write_bytes(DATA)
    with pytest.raises(UnsafePath):
        put_file(pair.warehouse, _writers(pair), registry, good, lfn, "CERN-DISK", path="/a/../b")
    assert _copies(pair, lfn) == ()
    assert list(registry.open("CERN-DISK").list("/")) == []


def test_a_corrupted_copy_is_reported_naming_se_and_file(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    local = tmp_path / "local.dst"
    local.write_bytes(DATA)
    put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK")
    on_disk = tmp_path / "disk" / lfn.lstrip("/")
    on_disk.write_bytes(DATA[:-1] + b"!")  # bit rot behind the element's back
    target = tmp_path / "out.dst"
    with pytest.raises(ChecksumMismatch) as caught:
        get_file(pair.warehouse, registry, lfn, target)
    assert "CERN-DISK" in str(caught.value) and lfn in str(caught.value)
    assert not target.exists() and list(tmp_path.glob(".out.dst*")) == []


def test_a_copy_on_another_se_is_a_conflict_before_any_byte_moves(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    local = tmp_path / "local.dst"
    local.write_bytes(DATA)
    registry.add("CERN-DISK-2", f"file://{tmp_path}/disk2", "offline", site="CERN")
    (tmp_path / "disk2").mkdir()
    put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK")
    with pytest.raises(ReplicaConflict) as caught:
        put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK-2")
    assert "CERN-DISK" in str(caught.value)
    assert list(registry.open("CERN-DISK-2").list("/")) == []


def test_a_file_already_on_the_se_with_other_bytes_is_refused(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    registry.open("CERN-DISK").put(io.BytesIO(b"other"), lfn)
    local = tmp_path / "local.dst"
    local.write_bytes(DATA)
    with pytest.raises(StorageExists):
        put_file(pair.warehouse, _writers(pair), registry, local, lfn, "CERN-DISK")
    assert _copies(pair, lfn) == ()


def test_materialised_files_hold_the_recorded_checksums(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    materialiser = Materialiser(registry, tmp_path / "storage", seed=5, scale=1_000_000)
    reports = list(materialiser.reports(generate_reports(40, seed=5)))
    materialiser.close()
    pair.warehouse_writer.record_batch(reports)
    pair.catalogue_writer.record_batch(reports)
    names = {r.name for r in registry.list()}
    assert {"CERN-DISK", "CERN-TAPE"} <= names
    checked = 0
    for record in pair.warehouse.files(DatasetPath()).files:
        copies = _copies(pair, record.lfn)
        real = int(pair.catalogue.file_parameter(record.file_id, "RealSize") or 0)
        # Size // scale bytes, or the metadata header alone when that is longer.
        assert real >= max(1, record.size // 1_000_000)
        for copy in copies:
            if copy.status != "available":
                assert copy.se == ""
                continue
            element = registry.open(copy.se)
            stat = element.stat(copy.path)
            assert stat.adler32 == record.checksum and stat.size == real
            checked += 1
        target = tmp_path / "got"
        got = get_file(pair.catalogue, registry, record.lfn, target)
        assert adler32_of_file(target)[1] == record.checksum == got.adler32
    assert checked > 40
    batch_out = tmp_path / "batch"
    batch_out.mkdir()
    lfns = [r.lfn for r in pair.warehouse.files(DatasetPath()).files]
    fetched = get_files(pair.warehouse, registry, lfns, batch_out)  # scaled-down sizes
    assert fetched.failed == [] and len(fetched.done) == len(lfns)
    again = Materialiser(registry, tmp_path / "storage", seed=5, scale=1_000_000)
    assert list(again.reports(generate_reports(40, seed=5))) == reports  # reruns agree
    assert again.files == 0  # everything was there
    again.close()


def test_batches_report_bad_files_and_go_on(
    pair: Pair, registry: StorageRegistry, tmp_path: Path
) -> None:
    lfn = _record_one(pair)
    good = tmp_path / "good.dst"
    good.write_bytes(DATA)
    bad = tmp_path / "bad.dst"
    bad.write_bytes(b"short")
    for se in ("CERN-DISK", "CERN-TAPE"):
        result = put_files(
            pair.warehouse,
            _writers(pair),
            registry,
            [(bad, lfn), (good, "/lhcb/no/such.dst"), (good, lfn)],
            se,
        )
        assert [t.lfn for t in result.done] == [lfn]
        assert {f[0] for f in result.failed} == {lfn, "/lhcb/no/such.dst"}
        assert any("no such file" in f[1] for f in result.failed)
    assert {c.se for c in _copies(pair, lfn)} == {"CERN-DISK", "CERN-TAPE"}
    out = tmp_path / "out"
    out.mkdir()
    got = get_files(pair.catalogue, registry, [lfn, "/lhcb/no/such.dst"], out, se="CERN-TAPE")
    assert [t.se for t in got.done] == ["CERN-TAPE"] and len(got.failed) == 1
    assert (out / lfn.rsplit("/", 1)[-1]).read_bytes() == DATA
