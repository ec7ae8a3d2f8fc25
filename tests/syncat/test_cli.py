"""``bk syncat`` and ``bk se audit`` on a real SQLite database (bk init) with the database
transport: keys, sending by hand, serving once, status, the audit; bad input is one line
and exit 1, bad usage exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for variable in ("BK_DATABASE_URL", "BK_ROOT_PASSWORD", "BK_CONFIG", "BK_BACKEND"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BK_SYNCAT_BROKER", "database")
    monkeypatch.setenv("BK_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    return runner


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _fails(runner: CliRunner, code: int, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_keys_send_serve_status_and_audit(runner: CliRunner, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    _ok(runner, "se", "add", "DISK1", f"file://{disk}", "--role", "offline", "--site", "DISK1")
    public = _ok(runner, "syncat", "keys", "generate", "se:DISK1").strip()
    assert len(public) == 44
    _ok(runner, "syncat", "keys", "trust", "se:DISK1", public)
    assert "was trusted already" in _ok(runner, "syncat", "keys", "trust", "se:DISK1", public)
    listed = _ok(runner, "syncat", "keys", "list")
    assert "own      se:DISK1" in listed and "trusted  se:DISK1" in listed
    # a file on the SE that the catalogue does not know: the audit finds it dark
    (disk / "lhcb").mkdir(parents=True)
    (disk / "lhcb" / "dark.raw").write_bytes(b"x")
    found = json.loads(_ok(runner, "se", "audit", "DISK1", "--format", "json"))
    assert (found["dark"], found["lost"]) == (["/lhcb/dark.raw"], [])
    _ok(runner, "se", "audit", "DISK1", "--send")
    out = _ok(runner, "syncat", "send", "space_changed", "--se", "DISK1", "--used", "5")
    assert out.startswith("sent space_changed")
    _ok(runner, "syncat", "serve", "--no-relay", "--once")
    status = json.loads(_ok(runner, "syncat", "status", "--format", "json"))
    assert (status["applied"], status["quarantined"], status["refused"]) == (2, 1, {})
    assert "applied      2 messages" in _ok(runner, "syncat", "status")
    assert status["backlog"] == 0 and status["oldest_unsent_s"] is None


def test_acl_changed_by_hand_and_the_backlog_in_status(runner: CliRunner) -> None:
    _ok(runner, "syncat", "keys", "generate", "catalogue")
    sent = _ok(
        runner,
        "syncat",
        "send",
        "acl_changed",
        "--se",
        "X",
        "--principal",
        "system:anyuser",
        "--rights",
        "r--",
        "/lhcb/MC",
    )
    assert sent.startswith("sent acl_changed")
    refused = _fails(
        runner,
        1,
        "syncat",
        "send",
        "acl_changed",
        "--se",
        "X",
        "--principal",
        "alice",
        "--rights",
        "read",
        "/lhcb/MC",
    )
    assert "rights 'read'" in refused
    assert "principal" in _fails(runner, 1, "syncat", "send", "acl_changed", "--se", "X", "/a")
    assert _ok(runner, "syncat", "status").startswith("backlog      0 files\n")


def test_bad_input_is_one_line_and_bad_usage_exit_2(runner: CliRunner) -> None:
    assert "no key for endpoint" in _fails(
        runner, 1, "syncat", "send", "file_lost", "--se", "X", "/lhcb/a.dst"
    )
    assert "not an Ed25519 public key" in _fails(
        runner, 1, "syncat", "keys", "trust", "se:X", "not-a-key"
    )
    _fails(runner, 2, "syncat", "send", "file_vanished", "--se", "X", "/lhcb/a.dst")
    _fails(runner, 2, "syncat", "send", "file_lost", "--se", "X")
    assert "no storage element" in _fails(runner, 1, "se", "audit", "NOPE").lower()
