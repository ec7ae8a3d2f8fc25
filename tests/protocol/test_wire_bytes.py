"""Raw-socket conformance: the exact bytes a stock AMGA client sees from our server."""

from __future__ import annotations

import re
from typing import Any

from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer, root_peer
from tests.protocol.serving import RunningServer, running_server


def _root(amga: RunningServer) -> RawPeer:
    return root_peer(amga.port, ROOT_PASSWORD)


def test_greeting_is_three_lines_and_the_context_gets_no_reply(amga: RunningServer) -> None:
    with RawPeer(amga.port) as peer:
        greeting = peer.login("root", ROOT_PASSWORD)
        lines = greeting.split(b"\n")
        assert lines[1] == b"Protocol 2"
        assert lines[2].startswith(b"Authentication methods:")
        assert peer.silent()
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_rows_are_one_value_per_line_ended_by_two_eot(amga: RunningServer) -> None:
    with _root(amga) as peer:
        assert peer.command("createdir /raw") == b"0\n\x04\x04"
        assert peer.command("addattr /raw size int") == b"0\n\x04\x04"
        assert peer.command("addattr /raw note varchar(40)") == b"0\n\x04\x04"
        assert peer.command("addentry /raw/e1 size 5 note 'it\\'s'") == b"0\n\x04\x04"
        assert peer.command("addentry /raw/e2 size 7") == b"0\n\x04\x04"
        assert peer.command("getattr /raw/e1 size note") == b"0\ne1\n5\nit's\n\x04\x04"
        assert peer.command("dir /raw") == b"0\n/raw/e1\nentry\n/raw/e2\nentry\n\x04\x04"
        assert peer.command("listattr /raw") == b"0\nsize\nint\nnote\nvarchar(40)\n\x04\x04"


def test_null_is_an_empty_line_and_newlines_are_escaped(amga: RunningServer) -> None:
    with _root(amga) as peer:
        peer.command("createdir /esc")
        peer.command("addattr /esc note varchar(40)")
        peer.command("addentry /esc/a note 'two\\nlines'")
        peer.command("addentry /esc/b")
        assert peer.command("getattr /esc/a note") == b"0\na\ntwo\\nlines\n\x04\x04"
        assert peer.command("getattr /esc/b note") == b"0\nb\n\n\x04\x04"


def test_errors_carry_code_and_message_and_keep_the_connection(amga: RunningServer) -> None:
    with _root(amga) as peer:
        response = peer.command("cd /does/not/exist")
        assert re.fullmatch(rb"1\d [^\n]*exist[^\n]*\n\x04\x04", response), response
        assert peer.command("frobnicate x").startswith(b"65 unknown command")
        assert peer.command("addentry /x/e size").startswith(b"60 ")
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_upload_and_put_get_no_reply_until_commit(amga: RunningServer) -> None:
    with _root(amga) as peer:
        peer.command("createdir /up")
        peer.command("addattr /up n int")
        peer.send(b"upload /up n\n")
        for i in range(5):
            peer.send(f"put f{i} {i}\n".encode())
        assert peer.silent()
        assert peer.command("commit") == b"0\n\x04\x04"
        assert peer.command("getattr /up/f3 n") == b"0\nf3\n3\n\x04\x04"
        assert peer.command("dir /up").count(b"\nentry\n") == 5


def test_a_failed_upload_reports_at_commit_and_writes_nothing(amga: RunningServer) -> None:
    with _root(amga) as peer:
        peer.command("createdir /up2")
        peer.command("addattr /up2 n int")
        peer.send(b"upload /up2 n\nput a 1\nput b not-a-number\nput c 3\n")
        assert peer.silent()
        response = peer.command("commit")
        assert not response.startswith(b"0"), response
        assert peer.command("abort").startswith(b"39 ")  # the upload's transaction is gone
        assert peer.command("dir /up2") == b"0\n\x04\x04"


def test_failed_login_is_the_first_commands_error_then_hang_up(amga: RunningServer) -> None:
    with RawPeer(amga.port) as peer:
        peer.login("root", "wrong password")
        assert peer.silent()
        response = peer.command("pwd")
        assert response.startswith(b"21 "), response
        assert peer.closed_by_server()


def test_an_overlong_line_is_refused_and_the_connection_survives(catalogue: Any) -> None:
    with running_server(catalogue, max_line=200) as amga, _root(amga) as peer:
        assert peer.command("pwd " + "x" * 5000).startswith(b"61 ")
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_a_late_can_does_not_abort_the_next_command(amga: RunningServer) -> None:
    with _root(amga) as peer:
        assert peer.command("pwd") == b"0\n/\n\x04\x04"
        peer.send(b"\x18")  # arrives after its command finished
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def _resume(port: int, session_id: bytes) -> RawPeer:
    peer = RawPeer(port)
    peer.read_lines(3)
    peer.send(b"resume" + session_id + b"\n\n")
    return peer


def test_released_sessions_resume_with_their_directory(catalogue: Any) -> None:
    parked = re.compile(rb"0\n(?:[^\x04]*\n)?\x04session(\d+)\x04")
    with running_server(catalogue, release_sessions=True) as amga:
        with _root(amga) as peer:
            match = parked.fullmatch(peer.command("createdir /kept"))
            assert match
            assert peer.closed_by_server()
        with _resume(amga.port, match.group(1)) as peer:
            assert peer.silent()  # a plain resume is not answered
            match = parked.fullmatch(peer.command("cd /kept"))
            assert match
        with _resume(amga.port, match.group(1)) as peer:
            response = peer.command("pwd")
            assert response.startswith(b"0\n/kept\n\x04session"), response
        with _resume(amga.port, match.group(1)) as peer:  # used up: refused
            assert peer.command("pwd").startswith(b"62 ")
