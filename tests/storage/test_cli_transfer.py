"""``bk generate --materialise``, ``bk get``, ``bk put`` and ``bk ingest --upload`` on a
real database and real folders: the done-when of the storage issue, in small."""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main
from bookkeeping.generator import generate_reports
from bookkeeping.storage.checksum import adler32_of_file, format_adler32
from bookkeeping.writer.serialise import report_to_json


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for variable in ("BK_DATABASE_URL", "BK_ROOT_PASSWORD", "BK_CONFIG", "BK_BACKEND"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BK_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    return runner


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_materialised_demo_files_come_back_from_disk_and_tape(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = _ok(runner, "generate", "--files", "40", "--backend", "both", "--materialise")
    assert "materialised:" in out
    names = {r["name"]: r for r in json.loads(_ok(runner, "se", "list", "--format", "json"))}
    assert {"CERN-TAPE", "CERN-DISK"} <= set(names) and names["CERN-TAPE"]["role"] == "tape"
    listed = json.loads(_ok(runner, "ls", "RAW", "--format", "json"))["files"]
    disk = next(f["lfn"] for f in listed if f["on_disk"])
    tape_only = next(f["lfn"] for f in listed if not f["on_disk"] and not f["recalled"])
    sources = set()
    for lfn in (disk, tape_only):
        target = tmp_path / "got.raw"
        said = _ok(runner, "get", lfn, str(target))
        sources.add(said.split(" from ")[1].split(" ")[0])
        assert f"adler32 {adler32_of_file(target)[1]}" in said  # verified against the record
    assert "CERN-TAPE" in sources and any(s.endswith("-DISK") for s in sources)
    status = json.loads(_ok(runner, "tape", "status", "--format", "json"))
    assert status["CERN-TAPE"]["totals"]["bytes_read"] > 0


def test_put_get_and_their_errors(runner: CliRunner, tmp_path: Path) -> None:
    _ok(runner, "generate", "--files", "10", "--materialise")
    lfn = _ok(runner, "ls", "RAW").splitlines()[1].split()[0]
    copy = tmp_path / "copy.raw"
    _ok(runner, "get", lfn, str(copy))
    _ok(runner, "se", "add", "X-DISK", f"file://{tmp_path}/x", "--role", "offline",
        "--site", "XSITE")  # fmt: skip
    said = _ok(runner, "put", str(copy), lfn, "--se", "X-DISK")
    assert "on X-DISK" in said and (tmp_path / "x" / lfn.lstrip("/")).is_file()
    bad = tmp_path / "bad.raw"
    bad.write_bytes(copy.read_bytes()[:-1] + b"\0")
    cases = [
        (["put", str(bad), lfn, "--se", "X-DISK"], "adler32"),
        (["put", str(copy), "/lhcb/not/recorded.raw", "--se", "X-DISK"], "not/recorded"),
        (["put", str(copy), lfn, "--se", "NOPE"], "NOPE"),
        (["put", str(copy), lfn, "--se", "X-DISK", "--path", "/a/../../b"], "escapes"),
        (["get", "/lhcb/not/recorded.raw"], "not/recorded"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_ingest_uploads_a_jobs_outputs(runner: CliRunner, tmp_path: Path) -> None:
    report = next(iter(generate_reports(2, seed=77)))
    outputs, folder = [], tmp_path / "job"
    folder.mkdir()
    for output in report.output_files:
        data = random.Random(output.lfn).randbytes(3000)
        (folder / output.lfn.rsplit("/", 1)[-1]).write_bytes(data)
        checksum = format_adler32(zlib.adler32(data))
        outputs.append(replace(output, size=3000, checksum=checksum, replicas=()))
    path = tmp_path / "report.json"
    path.write_text(report_to_json(replace(report, output_files=tuple(outputs))))
    _ok(runner, "se", "add", "J-DISK", f"file://{tmp_path}/j", "--role", "offline",
        "--site", "JSITE")  # fmt: skip
    said = _ok(runner, "ingest", str(path), "--upload", str(folder), "--se", "J-DISK",
               "--backend", "both")  # fmt: skip
    assert f"uploaded {len(outputs)} files to J-DISK" in said
    for output in outputs:
        got = tmp_path / "back"
        assert "from J-DISK" in _ok(runner, "get", output.lfn, str(got))
        assert adler32_of_file(got)[1] == output.checksum
