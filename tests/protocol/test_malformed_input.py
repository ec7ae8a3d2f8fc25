"""Arbitrary request lines are answered with a response, never a crash or a hang; lines of
upload traffic (``upload``, ``put``) are never answered, inside an upload or not."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol.rawwire import RawPeer
from tests.protocol.serving import RunningServer

_RESPONSE = re.compile(rb"-?\d+( [^\n]*)?\n(?s:.*)\x04(session\d+)?\x04")
_WORDS = st.sampled_from(
    ["pwd", "cd", "dir", "getattr", "selectattr", "find", "addentry", "rm", "'", "\\", '"', "*"]
    + ["upload", "put", "commit", "abort", "/x", "n", "'oops"]
)
_LINES = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=6).map(" ".join)
_NO_REPLY = {"upload", "put"}  # what mdclient sends with executeNoWait


def _expects_reply(line: str) -> bool:
    words = line.split(None, 1)
    return not words or words[0].lower() not in _NO_REPLY


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_LINES, min_size=1, max_size=6))
def test_any_request_line_gets_a_framed_response(amga: RunningServer, lines: list[str]) -> None:
    with RawPeer(amga.port) as peer:
        peer.login("anonymous")  # no password hashing per example
        for line in lines:
            clean = line.replace("\n", " ").replace("\r", " ").replace("\x18", "")
            peer.send(clean.encode() + b"\n")
            if _expects_reply(clean):
                response = peer.response()
                assert _RESPONSE.fullmatch(response), (clean, response)
        peer.command("abort")  # ends an upload left open (or is refused: no transaction)
        assert peer.command("pwd").startswith(b"0\n")
        assert peer.silent(0.05)  # not one reply more than the lines that wait for one
