"""Upload framing on the wire: clients read nothing between ``upload`` and ``commit``, so no
problem of an upload is ever answered early; ``commit`` refuses the whole upload."""

from __future__ import annotations

import re
from typing import Any

from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer, root_peer
from tests.protocol.serving import RunningServer, running_server

_OK = b"0\n\x04\x04"


def _peer_with_directory(amga: RunningServer, name: str) -> RawPeer:
    peer = root_peer(amga.port, ROOT_PASSWORD)
    assert peer.command(f"createdir /{name}") == _OK
    assert peer.command(f"addattr /{name} n int") == _OK
    return peer


_REFUSED = rb" upload to /\w+ refused, nothing was written: [^\n]*\n\x04\x04"


def _refusal(response: bytes, code: bytes, *words: bytes) -> None:
    assert re.fullmatch(code + _REFUSED, response), response
    for word in words:
        assert word in response, (word, response)


def test_a_put_with_broken_quoting_is_reported_at_commit(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "q") as peer:
        peer.send(b"upload /q n\nput a 1\nput b 'oops\nput c 3\n")
        assert peer.silent()
        _refusal(peer.command("commit"), b"60", b"put #2", b"unterminated quote")
        assert peer.command("dir /q") == b"0\n\x04\x04"
        assert peer.command("pwd") == b"0\n/\n\x04\x04"  # still in step


def test_a_put_with_the_wrong_value_count_refuses_the_upload(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "w") as peer:
        peer.send(b"upload /w n\nput a 1\nput b 1 2\n")
        assert peer.silent()
        _refusal(peer.command("commit"), b"64", b"put #2 (b): 2 values for 1")
        assert peer.command("dir /w") == b"0\n\x04\x04"


def test_a_second_upload_is_not_answered_and_refuses_the_first(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "two") as peer:
        peer.send(b"upload /two n\nput a 1\nupload /two n\nput b 2\n")
        assert peer.silent()
        _refusal(peer.command("commit"), b"64", b"a second upload (of /two)")
        assert peer.command("dir /two") == b"0\n\x04\x04"
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_a_broken_upload_line_swallows_its_puts_and_fails_at_commit(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "b") as peer:
        peer.send(b"upload '/b n\nput a 1\n")
        assert peer.silent()
        response = peer.command("commit")
        assert response.startswith(b"60 upload refused, nothing was written: "), response
        assert peer.command("pwd") == b"0\n/\n\x04\x04"


def test_an_engine_error_in_a_batch_is_kept_for_the_commit(catalogue: Any) -> None:
    with running_server(catalogue, upload_batch=2) as amga, _peer_with_directory(amga, "e") as peer:
        peer.send(b"upload /e n\nput a 1\nput b x\nput c 3\nput d 4\nput e 5\n")
        assert peer.silent()  # the failed batch went to the engine before commit: no reply
        response = peer.command("commit")
        assert re.match(rb"[1-4]\d upload to /e refused", response), response
        assert peer.command("dir /e") == b"0\n\x04\x04"


def test_an_overlong_put_is_not_answered_and_refuses_the_upload(catalogue: Any) -> None:
    with running_server(catalogue, max_line=300) as amga, _peer_with_directory(amga, "l") as peer:
        peer.send(b"upload /l n\nput a 1\nput b " + b"9" * 5000 + b"\nput c 3\n")
        assert peer.silent()
        _refusal(peer.command("commit"), b"61", b"put #2", b"exceeds 300")
        assert peer.command("dir /l") == b"0\n\x04\x04"


def test_a_command_awaiting_its_reply_inside_an_upload_gets_it(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "i") as peer:
        peer.send(b"upload /i n\nput a 1\n")
        response = peer.command("pwd")
        assert response.startswith(b"64 an upload is in progress"), response
        _refusal(peer.command("commit"), b"64", b"pwd arrived inside the upload")
        assert peer.command("dir /i") == b"0\n\x04\x04"


def test_a_malformed_commit_ends_the_upload_writing_nothing(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "m") as peer:
        peer.send(b"upload /m n\nput a 1\n")
        response = peer.command("commit now")
        assert response.startswith(b"60 commit takes 0 arguments"), response
        assert b"the upload was aborted" in response
        assert peer.command("abort").startswith(b"39 ")  # its transaction is gone
        assert peer.command("dir /m") == b"0\n\x04\x04"


def test_a_stray_put_is_not_answered_and_the_next_command_reports_it(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "s") as peer:
        peer.send(b"put a 1\nput b 2\n")
        assert peer.silent()
        response = peer.command("addentry /s/x n 1")
        assert response.startswith(b"64 put outside an upload: 2 put line(s) ignored"), response
        assert b"addentry was not run" in response
        assert peer.command("dir /s") == b"0\n\x04\x04"  # not run, and back in step
        assert peer.command("addentry /s/x n 1") == _OK


def test_a_stray_put_before_an_upload_refuses_that_upload(amga: RunningServer) -> None:
    with _peer_with_directory(amga, "sb") as peer:
        peer.send(b"put early 1\nupload /sb n\nput a 1\n")
        assert peer.silent()
        _refusal(peer.command("commit"), b"64", b"before this upload, put outside an upload")
        assert peer.command("dir /sb") == b"0\n\x04\x04"


def test_an_upload_refused_before_writing_leaves_an_open_transaction_open(
    amga: RunningServer,
) -> None:
    with _peer_with_directory(amga, "t") as peer:
        assert peer.command("transaction") == _OK
        assert peer.command("addentry /t/kept n 1") == _OK
        peer.send(b"upload /t n\nput a 1 2\n")
        _refusal(peer.command("commit"), b"64", b"2 values")
        assert peer.command("commit") == _OK  # the transaction's own work survives
        assert peer.command("dir /t") == b"0\n/t/kept\nentry\n\x04\x04"


def test_upload_lines_after_a_failed_login_are_not_answered(amga: RunningServer) -> None:
    with RawPeer(amga.port) as peer:
        peer.login("root", "wrong password")
        peer.send(b"upload /x n\nput a 1\n")
        assert peer.silent()
        assert peer.command("commit").startswith(b"21 ")
        assert peer.closed_by_server()


def test_with_released_sessions_an_upload_error_keeps_the_connection(catalogue: Any) -> None:
    parked = re.compile(rb"0\n/\n\x04session\d+\x04")
    with running_server(catalogue, release_sessions=True) as amga, RawPeer(amga.port) as peer:
        peer.login("root", ROOT_PASSWORD)
        peer.send(b"upload /nowhere n\nput a 1 2\n")
        response = peer.command("commit")
        assert response.startswith(b"64 upload to /nowhere refused"), response
        assert response.endswith(b"\n\x04\x04")  # no session id: mdclient stays connected
        peer.send(b"put stray 1\n")
        assert peer.command("pwd").startswith(b"64 put outside an upload")
        assert parked.fullmatch(peer.command("pwd"))  # the same connection, still open
