"""CAN (``\\030``) on the wire and through ``MDClient.cancel``: a command not yet started is
not run; a command that ran reports its real outcome; a streaming result is cut short."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer, root_peer
from tests.protocol.serving import RunningServer, running_server
from tests.waiting import wait_until

# 7.5 MB of rows: more than the server's socket send buffer (at most 4 MiB here), its
# 64 KiB transport buffer and a small client window together (~570 rows), so the server is
# still streaming at the CAN; without the CAN every row would arrive.
ROWS, PAYLOAD = 1000, b"x" * 7500
AT_MOST = 700


def _big_directory(peer: RawPeer) -> None:
    assert peer.command("createdir /big") == b"0\n\x04\x04"
    assert peer.command("addattr /big blob text") == b"0\n\x04\x04"
    puts = b"".join(b"put e%d %s\n" % (i, PAYLOAD) for i in range(ROWS))
    peer.send(b"upload /big blob\n" + puts)
    assert peer.command("commit") == b"0\n\x04\x04"


def _running(amga: RunningServer) -> Any:
    """The one connection running a command."""
    (connection,) = [c for c in list(amga.server._connections) if c.busy]
    return connection


def test_can_stops_a_streaming_result(catalogue: Any) -> None:
    with running_server(catalogue, stream_batch=10) as amga:
        with RawPeer(amga.port, receive_buffer=16384) as peer:
            peer.login("root", ROOT_PASSWORD)
            _big_directory(peer)
            peer.send(b"selectattr /big:blob ''\n")
            assert peer.read_lines(1) == b"0\n"
            peer.send(b"\x18")
            rest = peer.response()
            assert rest.endswith(b"\n\x04\x04")  # ended normally after a whole row
            assert 0 < rest.count(b"\n") < AT_MOST, rest.count(b"\n")
            assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_can_sent_with_its_command_stops_it_before_it_runs(amga: RunningServer) -> None:
    with root_peer(amga.port, ROOT_PASSWORD) as peer:
        assert peer.command("createdir /cn") == b"0\n\x04\x04"
        peer.send(b"addentry /cn/e\n\x18")  # one segment: the CAN is read with its line
        assert peer.response() == b"63 command aborted by the client (CAN) before it ran\n\x04\x04"
        assert peer.command("dir /cn") == b"0\n\x04\x04"


def test_can_while_a_write_runs_reports_its_real_outcome(
    amga: RunningServer, catalogue: Any
) -> None:
    with root_peer(amga.port, ROOT_PASSWORD) as peer:
        assert peer.command("createdir /cw") == b"0\n\x04\x04"
        blocker = catalogue.session("root")
        blocker.begin()
        inserting = threading.Event()

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            # The server's worker thread sends its insert (SQLite: takes the write lock
            # first): it passed the CAN check and is inside the database call, where the
            # blocker's lock holds it.
            writes = "INSERT" in statement or statement == "BEGIN IMMEDIATE"
            if threading.current_thread() is not test_thread and writes:
                inserting.set()

        test_thread = threading.current_thread()
        sa.event.listen(catalogue.engine, "before_cursor_execute", seen)
        try:
            # An uncommitted entry of the same name (SQLite: the write lock) makes the
            # server's insert wait inside the database until the blocker aborts.
            blocker.addentry("/cw/e", {})
            peer.send(b"addentry /cw/e\n")
            wait_until(inserting.is_set, "the server's insert reached the database")
            connection = _running(amga)
            assert connection.lines.cancel_mark < connection.line_number  # no CAN yet
            peer.send(b"\x18")
            wait_until(
                lambda: connection.lines.cancel_mark >= connection.line_number,
                "the server read the CAN while the insert waits",
            )
        finally:
            sa.event.remove(catalogue.engine, "before_cursor_execute", seen)
            blocker.abort()
            blocker.close()
        assert peer.response() == b"0\n\x04\x04"  # it ran and committed: that is the truth
        assert peer.command("dir /cw") == b"0\n/cw/e\nentry\n\x04\x04"


def test_mdclient_cancel_cuts_a_result_short_and_the_client_goes_on(catalogue: Any) -> None:
    with running_server(catalogue, stream_batch=10) as amga:
        with RawPeer(amga.port) as peer:
            peer.login("root", ROOT_PASSWORD)
            _big_directory(peer)
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.selectAttr(["/big:FILE", "/big:blob"], "")
            client.cancel()
            rows = 0
            while not client.eot():
                name, blob = client.getSelectAttrEntry()
                assert (name or "").startswith("e") and blob == PAYLOAD.decode()
                rows += 1
            assert 0 < rows < AT_MOST, rows
            assert client.pwd() == "/"
            client.cancel()  # nothing in flight: sends nothing, changes nothing
            assert client.whoami() == "root"
