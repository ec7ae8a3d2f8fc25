"""``bk amga shell`` against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.serving import RunningServer


def test_shell_runs_commands_prints_tables_and_keeps_history(
    amga: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = tmp_path / "history"
    monkeypatch.setenv("BK_AMGA_HISTORY", str(history))
    script = "createdir /shell\naddattr /shell n int\naddentry /shell/e n 3\n"
    script += "getattr /shell/e n\nfrobnicate\npwd\nquit\n"
    result = CliRunner().invoke(
        main,
        ["amga", "shell", f"amga://root@127.0.0.1:{amga.port}", "--password", ROOT_PASSWORD],
        input=script,
    )
    assert result.exit_code == 0, result.output
    assert "unknown command 'frobnicate'" in result.output
    assert "entry" in result.output and "│ e " in result.output
    assert history.exists()


def test_shell_shows_acls_as_principal_and_rights_columns(
    amga: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BK_AMGA_HISTORY", str(tmp_path / "history"))
    script = "createdir /acl\nacl_add /acl alice rw\nacl_show /acl\nwhoami\nquit\n"
    result = CliRunner().invoke(
        main,
        ["amga", "shell", f"amga://root@127.0.0.1:{amga.port}", "--password", ROOT_PASSWORD],
        input=script,
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"┃ principal\s+┃ rights ┃", result.output), result.output
    assert re.search(r"│ alice\s+│ rw-\s+│", result.output), result.output
    assert re.search(r"┃ user ┃", result.output) and "│ root │" in result.output
