"""Serving for real: ``bk web serve`` and gunicorn as subprocesses, ``bk token``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.backends import open_writers
from bookkeeping.bootstrap import initialise
from bookkeeping.cli import main
from bookkeeping.engines import create_engine
from bookkeeping.errors import ConfigError
from bookkeeping.generator import generate_reports
from bookkeeping.local_servers import free_port
from bookkeeping.scratch import scratch_database
from tests.webui.conftest import SEED
from webui import create_app
from webui.tokens import user_for_token

BIN = Path(sys.executable).parent


def _fetch(url: str, timeout: float = 30.0) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def server_env(populated_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BK_DATABASE_URL": populated_url, "BK_DATA_DIR": str(tmp_path)}


@contextmanager
def _running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    log = Path(env["BK_DATA_DIR"]) / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    except BaseException:
        print(log.read_text())  # shown by pytest when the test fails
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_bk_web_serve_serves_the_browser_with_gunicorn(server_env: dict[str, str]) -> None:
    port = free_port()
    command = [str(BIN / "bk"), "web", "serve", "--port", str(port), "--workers", "2",
               "--backend", "warehouse"]  # fmt: skip
    with _running(command, server_env):
        status, body = _fetch(f"http://127.0.0.1:{port}/browse")
        assert status == 200 and "LHCb" in body
        log = (Path(server_env["BK_DATA_DIR"]) / "server.log").read_text()
        assert "with 2 gunicorn workers" in log
        assert "development server" not in log.lower()
        # Too long for gunicorn (its request-line limit), then for the application: both
        # answer our JSON error, not an HTML page.
        for length in (70_000, 10_000, 8_500):
            url = f"http://127.0.0.1:{port}/api/v1/browse?q={'x' * length}"
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=30)
            assert refused.value.code == 414
            error = json.loads(refused.value.read())
            assert error["status"] == 414 and error["message"], error


def test_bk_web_serve_on_a_taken_port_fails_before_announcing_itself(
    server_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["web", "serve", "--port", str(port)], env=server_env)
    assert result.exit_code == 1, result.output
    assert "Serving" not in result.output and "Traceback" not in result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


@pytest.fixture
def catalogue_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database filled through the catalogue writer only (the warehouse stays empty)."""
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        initialise(engine, root_password="root-pw")  # the catalogue writer writes as root
        open_writers(engine, "catalogue")["catalogue"].record_batch(
            list(generate_reports(40, seed=SEED))
        )
        engine.dispose()
        yield {**os.environ, "BK_DATABASE_URL": database.url, "BK_DATA_DIR": str(tmp_path)}


def test_bk_web_serve_serves_the_catalogue_backend(catalogue_env: dict[str, str]) -> None:
    port = free_port()
    command = [str(BIN / "bk"), "web", "serve", "--port", str(port), "--backend", "catalogue"]
    with _running(command, catalogue_env):
        _fetch(f"http://127.0.0.1:{port}/browse")  # waits until it is up
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/browse", timeout=30) as r:
            assert r.headers["X-Bookkeeping-Backend"] == "catalogue"
            data = json.loads(r.read())
    # The pages come from the catalogue: the warehouse of this database has no file.
    assert data["totals"]["files"] > 0
    assert [item["value"] for item in data["values"]] == ["LHCb", "MC"]


def test_gunicorn_serves_the_app_factory(server_env: dict[str, str]) -> None:
    port = free_port()
    command = [
        str(BIN / "gunicorn"), "--workers", "2", "--graceful-timeout", "2",
        "--bind", f"127.0.0.1:{port}", "webui:create_app()",
    ]  # fmt: skip
    with _running(command, server_env):
        status, body = _fetch(f"http://127.0.0.1:{port}/api/v1/browse")
        assert status == 200 and '"configname"' in body
        # Both workers share the secret key file, so a session cookie works on either.
        assert (Path(server_env["BK_DATA_DIR"]) / "web-secret-key").exists()


def test_unknown_backend_is_refused_before_serving(server_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["web", "serve", "--backend", "oracle"], env=server_env)
    assert result.exit_code == 2 and "'oracle' is not one of" in result.output
    with pytest.raises(ConfigError, match="unknown BOOKKEEPING_BACKEND 'nosql'"):
        create_app({"DATABASE_URL": "sqlite:///unused.sqlite", "SECRET_KEY": "k",
                    "BOOKKEEPING_BACKEND": "nosql"})  # fmt: skip


def test_bk_token_create_prints_a_working_token(engine, backend) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="producer"))
    runner = CliRunner()
    result = runner.invoke(main, ["token", "create", "producer", "--db", backend.url])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert user_for_token(engine, token) == "producer"
    revoked = runner.invoke(main, ["token", "revoke", "producer", "--db", backend.url])
    assert revoked.exit_code == 0 and "Revoked 1 token" in revoked.output
    assert user_for_token(engine, token) is None


def test_bk_token_create_for_an_unknown_user_fails_clearly(populated_url: str) -> None:
    result = CliRunner().invoke(main, ["token", "create", "nobody", "--db", populated_url])
    assert result.exit_code == 1
    assert "no such user: 'nobody'" in result.output
