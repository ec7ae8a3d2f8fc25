"""Limits and lifecycle: idle timeout, reconnect, logs, graceful shutdown, SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bookkeeping.amga_adapter.client.client import CommandException, ConnectionLost, MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer
from tests.protocol.serving import running_server
from tests.waiting import wait_until


def test_idle_connections_are_closed_and_the_client_reconnects(catalogue: Any) -> None:
    with running_server(catalogue, idle_timeout=0.3) as amga:
        with RawPeer(amga.port) as peer:
            peer.login("root", ROOT_PASSWORD)
            assert peer.closed_by_server()
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/idle")
            client.cd("/idle")
            wait_until(lambda: not amga.server._connections, "the server hanging up")
            assert client.pwd() == "/idle"  # reconnected, directory restored


def test_every_command_is_logged_with_user_duration_rows_and_code(
    catalogue: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bookkeeping.amga.server")
    with running_server(catalogue) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.pwd()
            with pytest.raises(CommandException):
                client.cd("/missing")
    records = [r.amga for r in caplog.records if hasattr(r, "amga")]
    assert records[0]["user"] == "root" and records[0]["command"] == "pwd"
    assert records[0]["rows"] == 1 and records[0]["code"] == 0
    assert records[1]["command"] == "cd" and records[1]["code"] != 0
    assert all(record["duration_ms"] >= 0 for record in records)


def test_shutdown_closes_idle_clients_and_rolls_back_open_transactions(catalogue: Any) -> None:
    with running_server(catalogue) as amga:
        client = MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD, auto_reconnect=False)
        client.createDir("/tx")
        client.transaction()
        client.addEntry("/tx/pending", [], [])
        amga.call(amga.server.shutdown())
        with pytest.raises(ConnectionLost):
            client.pwd()
        client.close()
    with running_server(catalogue) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            assert client.listEntries("/tx", sync=True) == []


@pytest.mark.slow
def test_bk_amga_serve_stops_gracefully_on_sigterm(catalogue: Any) -> None:
    url = catalogue.engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [Path(sys.executable).with_name("bk"), "amga", "serve", "--db", url, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        port = None
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            match = re.search(r"listening on [\d.]+:(\d+)", line)
            port = int(match.group(1)) if match else None
        assert port, "the server did not report its port"
        with MDClient("127.0.0.1", port, "root", ROOT_PASSWORD) as client:
            assert client.whoami() == "root"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_shutdown_lets_the_command_in_flight_finish(catalogue: Any) -> None:
    rows, payload = 700, "x" * 7500  # 5 MB: more than a 4 MB send buffer and our window
    with running_server(catalogue, stream_batch=10) as amga:
        with RawPeer(amga.port, receive_buffer=16384) as peer:
            peer.login("root", ROOT_PASSWORD)
            peer.command("createdir /flight")
            peer.command("addattr /flight blob text")
            puts = b"".join(b"put e%d %s\n" % (i, payload.encode()) for i in range(rows))
            peer.send(b"upload /flight blob\n" + puts)
            assert peer.command("commit") == b"0\n\x04\x04"
            peer.send(b"selectattr /flight:blob ''\n")
            assert peer.read_lines(1) == b"0\n"

            def held_back() -> bool:  # the server's buffer is full: it must wait, not grow
                busy = [c for c in amga.server._connections if c.busy]
                transport = busy[0].writer.transport if busy else None
                return transport is not None and (
                    transport.get_write_buffer_size() >= transport.get_write_buffer_limits()[1]
                )

            wait_until(held_back, "the server filling its write buffer")
            (streaming,) = [c for c in amga.server._connections if c.busy]
            # back-pressure: the server holds rows back instead of buffering the result
            assert streaming.writer.transport.get_write_buffer_size() < 512 * 1024
            stopping = asyncio.run_coroutine_threadsafe(amga.server.shutdown(), amga.loop)
            rest = peer.response()
            assert rest.count(b"\n") == rows  # every row arrived
            assert peer.closed_by_server()
            stopping.result(timeout=30)


def test_the_client_resumes_sessions_the_server_parks(catalogue: Any) -> None:
    with running_server(catalogue, release_sessions=True) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/parked")
            assert client.pwd() == "/"  # reads its response to the end marker
            assert client.sessionID and not client.connected  # parked, as mdclient does
            client.cd("/parked")
            client.addAttr(".", "n", "int")
            client.addEntry("e", ["n"], [4])
            assert client.pwd() == "/parked"
            assert client.getattr("e", ["n"], sync=True) == [("e", ["4"])]
