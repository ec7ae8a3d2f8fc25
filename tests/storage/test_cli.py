"""``bk se`` and ``bk tape status`` on a real database (SQLite, bk init)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main


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


def test_se_add_list_du_ls_and_tape_status(runner: CliRunner, tmp_path: Path) -> None:
    disk, tape = tmp_path / "disk", tmp_path / "tape"
    _ok(runner, "se", "add", "CERN-DISK", f"file://{disk}", "--role", "offline", "--site", "CERN")
    _ok(runner, "se", "add", "CERN-TAPE", f"tape://{tape}?drives=1", "--role", "tape")
    assert disk.is_dir() and (tape / "library.db").is_file()
    listed = json.loads(_ok(runner, "se", "list", "--format", "json"))
    assert [(r["name"], r["role"], r["site"]) for r in listed] == [
        ("CERN-DISK", "offline", "CERN"),
        ("CERN-TAPE", "tape", ""),
    ]
    assert "CERN-TAPE" in _ok(runner, "se", "list")
    (disk / "lhcb" / "a").mkdir(parents=True)
    (disk / "lhcb" / "a" / "f1").write_bytes(b"12345")
    (disk / "lhcb" / "f2").write_bytes(b"123")
    assert _ok(runner, "se", "ls", "CERN-DISK").splitlines() == ["/lhcb/a/f1", "/lhcb/f2"]
    assert _ok(runner, "se", "ls", "CERN-DISK", "/lhcb/a").splitlines() == ["/lhcb/a/f1"]
    assert "8 bytes used" in _ok(runner, "se", "du", "CERN-DISK")
    from bookkeeping.storage.tape import TapeElement

    library = TapeElement.from_url("CERN-TAPE", f"tape://{tape}?drives=1")
    library.put(io.BytesIO(b"on tape"), "/lhcb/t1")
    library.close()
    status = json.loads(_ok(runner, "tape", "status", "--format", "json"))
    assert status["CERN-TAPE"]["totals"]["bytes_written"] == 7
    assert status["CERN-TAPE"]["totals"]["mounts"] == 1
    assert "1 mounts" in _ok(runner, "tape", "status", "CERN-TAPE")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["se", "add", "X", "http://host/x", "--role", "offline"], "does not start with"),
        (["se", "add", "X", "file:///x", "--role", "tape"], "tape"),
        (["se", "ls", "NOPE"], "no storage element 'NOPE'"),
        (["se", "du", "NOPE"], "NOPE"),
        (["tape", "status", "NOPE"], "NOPE"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unsafe_ls_path_and_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    _ok(runner, "se", "add", "D", f"file://{tmp_path}/d", "--role", "offline")
    result = runner.invoke(main, ["se", "ls", "D", "/a/../../etc"])
    assert result.exit_code == 1 and "escapes" in result.output
    assert runner.invoke(main, ["se", "add", "Y", "file:///y", "--role", "floppy"]).exit_code == 2
