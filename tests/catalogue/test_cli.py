from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.cli import main

Run = Callable[..., str]


@pytest.fixture
def bk(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for variable in ("BK_DATABASE_URL", "BK_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BK_DATA_DIR", str(tmp_path))
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True) -> str:
        result = runner.invoke(main, [*args, "--db", url], input=input)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run


def test_user_add_with_password_from_stdin_dn_and_group(bk: Run, engine: Engine) -> None:
    assert "Added user 'dave'" in bk(
        "user",
        "add",
        "dave",
        "--password-stdin",
        "--dn",
        "/CN=Dave",
        "--group",
        "physicists",
        input="s3cret\n",
    )
    catalogue = Catalogue(engine)
    assert catalogue.authenticate("dave", "s3cret") == "dave"
    assert catalogue.user_for_dn("/CN=Dave") == "dave"
    listing = bk("user", "list")
    assert "dave" in listing and "physicists" in listing and "/CN=Dave" in listing
    assert "s3cret" not in listing


def test_user_add_twice_fails_with_a_clear_message(bk: Run) -> None:
    output = bk("user", "add", "alice", ok=False)
    assert "Error: user 'alice' exists" in output


def test_group_add_and_acl_grant_show_revoke(bk: Run, engine: Engine) -> None:
    assert "Added group 'cms'" in bk("group", "add", "cms")
    Catalogue(engine).session("root").createdir("/data")
    bk("acl", "grant", "/data", "group:cms", "rw")
    bk("acl", "grant", "/data", "carol", "r")
    shown = bk("acl", "show", "/data")
    assert "group:cms" in shown and "rw-" in shown and "carol" in shown
    bk("acl", "revoke", "/data", "group:cms", "w")
    assert Catalogue(engine).session("root").acl_show("/data") == [
        ("carol", "r--"),
        ("group:cms", "r--"),
        ("system:anyuser", "r-x"),
    ]


def test_acl_errors_are_one_line(bk: Run) -> None:
    assert "no such directory: /nowhere" in bk("acl", "show", "/nowhere", ok=False)
    assert "no such user: nobody" in bk("acl", "grant", "/", "nobody", "r", ok=False)
    assert "invalid rights" in bk("acl", "grant", "/", "carol", "rq", ok=False)
