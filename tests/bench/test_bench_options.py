"""``bk bench`` options: documented in --help, contradictions refused before anything runs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bookkeeping.cli import main


def test_help_names_every_option() -> None:
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0
    for option in ("--quick", "--backend", "--db", "--out", "--calls", "--files"):
        assert option in result.output


def test_db_url_of_another_backend_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["bench", "--backend", "postgresql", "--db", "sqlite:///x.sqlite", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--db is a sqlite URL, not postgresql" in result.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_backend_is_refused() -> None:
    result = CliRunner().invoke(main, ["bench", "--backend", "oracle"])
    assert result.exit_code == 2
