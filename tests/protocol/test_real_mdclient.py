"""The real, unmodified AMGA ``mdclient`` (Python 2) against our server: every command of
the protocol table through the client's own methods, results checked exactly.

Needs ``BK_TEST_AMGA_MDCLIENT_DIR`` (a directory holding AMGA's ``mdclient.py`` and
``mdinterface.py``; third-party code, never committed here) and a Python 2.7 interpreter (on
PATH or under ``~/.pyenv/versions/2.7*/bin``). See docs/protocol.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.protocol.serving import running_server

DRIVER = Path(__file__).with_name("mdclient_driver.py")
MANY = 1500


def _python2() -> str | None:
    candidates = [shutil.which("python2.7"), shutil.which("python2")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/2.7*/bin/python2.7"))
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[0])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue  # a stale shim or a broken installation: try the next one
        if probe.returncode == 0 and probe.stdout.strip() == "2":
            return candidate
    return None


def _mdclient_dir() -> Path | None:
    configured = os.environ.get("BK_TEST_AMGA_MDCLIENT_DIR")
    if not configured or not (Path(configured) / "mdclient.py").is_file():
        return None
    return Path(configured)


PYTHON2 = _python2()
MDCLIENT_DIR = _mdclient_dir()
pytestmark = [
    pytest.mark.skipif(
        MDCLIENT_DIR is None,
        reason="set BK_TEST_AMGA_MDCLIENT_DIR to a directory holding AMGA's mdclient.py",
    ),
    pytest.mark.skipif(PYTHON2 is None, reason="no working python2.7 on PATH or under pyenv"),
]


def expected(base: str, user: str) -> dict[str, Any]:
    home = base.rstrip("/") + "/mdc"

    def listing(*names: str) -> list[list[str]]:
        kinds = {"many": "collection", "plain": "collection"}
        return [[f"{home}/{name}", kinds.get(name, "entry")] for name in names]

    def error(code: int, message: str, command: str) -> dict[str, Any]:
        return {"error": code, "message": f"{message}. Command was: {command}"}

    return {
        "greeting_protocol": 2,
        "whoami": [user],
        "createDir": None,
        "createPlainDir": None,
        "cd": None,
        "pwd": home,
        "addAttr_n": None,
        "addAttr_s": None,
        "addAttr_tmp": None,
        "listAttr": [["n", "s", "tmp"], ["int", "varchar(32)", "int"]],
        "addEntry": None,
        "addEntries": None,
        "setAttr": None,
        "getattr": [["a", "1", "one"], ["b", "2", "it's"], ["c", "", ""]],
        "listEntries": listing("plain", "a", "b", "c"),
        "find": [f"{home}/b"],
        "selectAttr": [["a", "1"], ["b", "2"]],
        "selectAttr_string_literal": [["a", "one"]],
        "updateAttr": None,
        "update": None,
        "getattr_after_update": [["a", "1", "2"], ["b", "12", "24"], ["c", "", ""]],
        "addAttr_held": None,
        "setAttr_held": None,
        "removeAttr_with_values": None,
        "listAttr_after_remove": [["n", "s", "tmp"], ["int", "varchar(32)", "int"]],
        "clearAttr": None,
        "removeAttr": None,
        "rm": None,
        "upload": None,
        "upload_bad_put": error(
            60,
            f"upload to {home} refused, nothing was written: put #2: unterminated quote "
            "starting at column 10",
            "commit",
        ),
        "upload_abort": None,
        "upload_many": None,
        "selectAttr_many": [MANY, MANY * (MANY - 1) // 2, "m0", "m999"],
        "put_outside_upload": None,
        "pwd_after_stray_put": error(
            64,
            "put outside an upload: 1 put line(s) ignored (first: put z1); pwd was not run",
            "pwd",
        ),
        "listEntries_after_uploads": listing("many", "plain", "a", "b", "u1", "u2"),
        "transaction_abort": listing("many", "plain", "a", "b", "u1", "u2"),
        "transaction_commit": listing("many", "plain", "a", "b", "t2", "u1", "u2"),
        "sequenceCreate": None,
        "sequenceNext": ["100", "105"],
        "sequenceRemove": None,
        "constraintAddNotNull": None,
        "constraintAddUnique": None,
        "constraintAddCheck": None,
        "addAttr_plain": None,
        "constraintAddReference": None,
        # mdclient names its constraints (nn, un, ck) and drops them by those names.
        "constraintList": ["nn not_null n", "un unique n", "ck check n>0"],
        "constraintDrop": ["nn", "un", "ck"],
        "constraintList_after_drop": [],
        "cd_missing": error(11, f"no such directory: {home}/nowhere", f"cd {home}/nowhere"),
        "pwd_after_error": home,
        "removeDir": None,
        "cd_root": None,
        "listEntries_final": listing("many", "a", "b", "t2", "u1", "u2"),
    }


def _run_driver(port: int, mode: str, base: str, *keys: Path) -> dict[str, Any]:
    assert PYTHON2 is not None and MDCLIENT_DIR is not None
    command = [PYTHON2, str(DRIVER), str(MDCLIENT_DIR), "127.0.0.1", str(port), mode, base]
    completed = subprocess.run(
        command + [str(key) for key in keys], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads(completed.stdout)
    steps = results.pop("steps")
    assert steps == list(expected(base, "-"))  # every step ran, in order
    return results


@pytest.mark.parametrize("release_sessions", [False, True], ids=["one-connection", "sessions"])
def test_real_mdclient_over_a_plain_connection(catalogue: Any, release_sessions: bool) -> None:
    with running_server(catalogue, release_sessions=release_sessions) as amga:
        assert _run_driver(amga.port, "password", "/") == expected("/", "root")


@pytest.mark.parametrize("release_sessions", [False, True], ids=["one-connection", "sessions"])
def test_real_mdclient_over_tls_with_a_password(
    catalogue: Any, pki: dict[str, Path], release_sessions: bool
) -> None:
    tls = {"tls_cert": pki["server_cert"], "tls_key": pki["server_key"], "tls_ca": pki["ca"]}
    with running_server(catalogue, release_sessions=release_sessions, **tls) as amga:
        assert _run_driver(amga.port, "ssl", "/") == expected("/", "root")


def test_real_mdclient_logs_in_with_a_client_certificate(
    catalogue: Any, pki: dict[str, Path]
) -> None:
    session = catalogue.session("root")
    try:
        session.createdir("/alice")
        session.acl_grant("/alice", "alice", "rwx")
    finally:
        session.close()
    tls = {"tls_cert": pki["server_cert"], "tls_key": pki["server_key"], "tls_ca": pki["ca"]}
    with running_server(catalogue, **tls) as amga:
        results = _run_driver(amga.port, "cert", "/alice", pki["alice_key"], pki["alice_cert"])
    assert results == expected("/alice", "alice")
