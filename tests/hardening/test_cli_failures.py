"""Every bk command run as a new user might: bad options, a database that is not there or is
not a database, an unreachable server. Usage errors exit 2; failures exit 1 with one line
saying what to do; never a traceback (``bk --debug`` shows it); a missing database file is
never created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bookkeeping.cli import main


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _leaves(sub, (*path, name))
    else:
        yield path


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _required(command: click.Command) -> list[str]:
    """Plausible values for the required parameters (the database is what is wrong)."""
    words: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        value = param.type.choices[0] if isinstance(param.type, click.Choice) else "1"
        if isinstance(param, click.Option):
            words += [param.opts[0], str(value)]
        else:
            words.append(str(value))
    return words


COMMANDS = list(_leaves(main))
WITH_DB = [p for p in COMMANDS if any(q.name == "database_url" for q in _command(p).params)]
# bk init creates the database on purpose; bk bench builds databases of its own.
CREATES = {("init",), ("bench",)}


def _one_line_failure(result: Result) -> None:
    text = result.output
    assert "Traceback" not in text, text
    if result.exit_code == 1:
        lines = [line for line in text.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("Error:", "Aborted!"))]
        assert len(errors) == 1, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_a_usage_error(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--no-such-option"])
    assert result.exit_code == 2, result.output
    _one_line_failure(result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", [p for p in WITH_DB if p not in CREATES], ids=" ".join)
def test_a_missing_database_is_one_line_and_never_created(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.db"
    arguments = [*path, *_required(_command(path)), "--db", f"sqlite:///{missing}"]
    result = CliRunner().invoke(main, arguments, env={"BK_DATA_DIR": str(tmp_path / "data")})
    # 0 for the few that never open the database (bk db url, bk syncat keys generate).
    assert result.exit_code in (0, 1, 2), result.output
    _one_line_failure(result)
    assert not missing.exists(), f"bk {' '.join(path)} created {missing}"


@pytest.mark.parametrize("path", [("ls",), ("views", "select"), ("user", "list")], ids=" ".join)
def test_a_file_that_is_not_a_database_is_named(path: tuple[str, ...], tmp_path: Path) -> None:
    foreign = tmp_path / "notes.db"
    foreign.write_text("shopping list\n" * 500)
    arguments = [*path, *_required(_command(path)), "--db", f"sqlite:///{foreign}"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    _one_line_failure(result)
    assert "not a database" in result.output


def test_an_unreachable_server_is_one_line() -> None:
    result = CliRunner().invoke(main, ["ls", "DST", "--db", "postgresql://x@127.0.0.1:1/x"])
    assert result.exit_code == 1
    _one_line_failure(result)
    assert "unavailable" in result.output and "retry" in result.output


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--debug", "ls", "DST", "--db", f"sqlite:///{tmp_path}/missing.db"]
    )
    assert result.exit_code == 1
    assert result.exception is not None and not isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("arguments", "status", "says"),
    [
        (["amga", "shell", "127.0.0.1:1"], 1, "cannot connect to 127.0.0.1:1"),
        (["amga", "shell", "amga://x@[bad"], 2, "Invalid value for URL"),
        (["web", "serve", "--port", "99999"], 2, "99999"),
        (["no-such-command"], 2, "No such command"),
    ],
)
def test_bad_addresses(arguments: list[str], status: int, says: str) -> None:
    result = CliRunner().invoke(main, arguments, input="")
    assert result.exit_code == status, result.output
    _one_line_failure(result)
    assert says in result.output


def test_ls_names_the_known_file_types(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bk.db"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--db", url]).exit_code == 0
    assert runner.invoke(main, ["generate", "--db", url, "--files", "20"]).exit_code == 0
    result = runner.invoke(main, ["ls", "dst", "--db", url])
    assert result.exit_code == 1
    _one_line_failure(result)
    assert "known: " in result.output and "DST" in result.output


def test_user_passwd_changes_the_password(tmp_path: Path) -> None:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue
    from bookkeeping.engines import create_engine

    url = f"sqlite:///{tmp_path}/bk.db"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--db", url]).exit_code == 0
    added = runner.invoke(main, ["user", "add", "alice", "--password-stdin", "--db", url],
                          input="old-secret\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    changed = runner.invoke(main, ["user", "passwd", "alice", "--password-stdin", "--db", url],
                            input="new-secret\n")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    engine = create_engine(url)
    try:
        assert Catalogue(engine).authenticate("alice", "new-secret") == "alice"
    finally:
        engine.dispose()
    unknown = runner.invoke(main, ["user", "passwd", "bob", "--password-stdin", "--db", url],
                            input="x\n")  # fmt: skip
    assert unknown.exit_code == 1 and "no such user" in unknown.output
