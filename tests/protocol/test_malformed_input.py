"""Arbitrary request lines are answered with a response, never a crash or a hang."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol.rawwire import RawPeer
from tests.protocol.serving import RunningServer

_RESPONSE = re.compile(rb"-?\d+( [^\n]*)?\n(?s:.*)\x04(session\d+)?\x04")
_WORDS = st.sampled_from(
    ["pwd", "cd", "dir", "getattr", "selectattr", "find", "addentry", "rm", "'", "\\", '"', "*"]
)
_LINES = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=6).map(" ".join)


def _is_bulk_start(line: str) -> bool:
    words = line.split()
    # upload/put are answered only at commit, so they are not single-line requests
    return bool(words) and words[0].lower() in {"upload", "put"}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_LINES, min_size=1, max_size=4))
def test_any_request_line_gets_a_framed_response(amga: RunningServer, lines: list[str]) -> None:
    with RawPeer(amga.port) as peer:
        peer.login("anonymous")  # no password hashing per example
        for line in lines:
            clean = line.replace("\n", " ").replace("\r", " ").replace("\x18", "")
            if _is_bulk_start(clean):
                continue
            response = peer.command(clean)
            assert _RESPONSE.fullmatch(response), (clean, response)
        assert peer.command("pwd").startswith(b"0\n")
