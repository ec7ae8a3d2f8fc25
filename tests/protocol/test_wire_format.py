"""Conformance of the pure protocol module: bytes in, bytes out, no I/O."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.protocol import (
    MalformedRequest,
    UnknownCommand,
    escape_value,
    parse_context,
    parse_options,
    parse_request,
    quote,
    responses,
    tokenize,
    unescape_value,
)
from bookkeeping.amga_adapter.protocol import requests as rq
from bookkeeping.amga_adapter.protocol.framing import End, ResponseDecoder


def test_greeting_is_three_lines_with_protocol_two() -> None:
    data = responses.greeting("bk-amga 0.1")
    assert data.count(b"\n") == 3
    lines = data.decode().splitlines()
    assert lines[1] == "Protocol 2"
    # how mdclient finds the version: the digit after "\nProtocol "
    text = data.decode()
    assert int(text[text.find("\nProtocol ") + 10]) == 2
    assert lines[2].startswith("Authentication methods:")


def test_success_response_ends_with_two_adjacent_eot() -> None:
    body = responses.success() + responses.rows(["a", 1, None]) + responses.end()
    assert body == b"0\na\n1\n\n\x04\x04"


def test_session_id_sits_between_the_two_eot() -> None:
    assert responses.end(42) == b"\x04session42\x04"


def test_error_response_is_code_message_and_end() -> None:
    assert responses.error(12, "no such directory /x") == b"12 no such directory /x\n\x04\x04"


def test_error_message_with_newlines_stays_on_one_line() -> None:
    data = responses.error(50, "syntax error\n  x >\n    ^")
    assert data.count(b"\n") == 1


def test_error_response_refuses_code_zero() -> None:
    with pytest.raises(ValueError):
        responses.error(0, "fine")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "1"),
        (5, "5"),
        (2.5, "2.5"),
        (Decimal("1.50"), "1.50"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.time(3, 4, 5), "03:04:05"),
        ("a\nb", "a\\nb"),
        ("end\x04", "end\\x04"),
        ("C:\\dir", "C:\\\\dir"),
    ],
)
def test_values_are_formatted_on_one_line(value: object, text: str) -> None:
    assert responses.format_value(value) == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escape_value_round_trips_and_never_breaks_framing(text: str) -> None:
    escaped = escape_value(text)
    assert "\n" not in escaped and "\x04" not in escaped and "\r" not in escaped
    assert unescape_value(escaped) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"])), max_size=5))
def test_quoted_values_tokenize_back_to_themselves(values: list[str]) -> None:
    line = "addentry /d/e " + " ".join(quote(value) for value in values)
    assert "\n" not in line
    assert [token.text for token in tokenize(line)[2:]] == values


def test_tokenize_follows_amga_quoting() -> None:
    tokens = tokenize("find  /jobs '/jobs:CONFIGNAME=\"MC\" and /jobs:NAME=\\'x y\\''")
    assert [token.text for token in tokens] == [
        "find",
        "/jobs",
        "/jobs:CONFIGNAME=\"MC\" and /jobs:NAME='x y'",
    ]
    assert [token.quoted for token in tokens] == [False, False, True]


def test_empty_quotes_are_an_empty_argument() -> None:
    assert [token.text for token in tokenize("selectattr /d:FILE ''")] == [
        "selectattr",
        "/d:FILE",
        "",
    ]


def test_unterminated_quote_is_malformed() -> None:
    with pytest.raises(MalformedRequest, match="unterminated quote"):
        tokenize("addentry /d/e a 'oops")


def test_selectattr_takes_the_last_argument_as_condition() -> None:
    request = parse_request("selectattr /jobs:FILE count(/jobs:FILE) 'limit 5'")
    assert request == rq.SelectAttributes(("/jobs:FILE", "count(/jobs:FILE)"), "limit 5")


def test_updateattr_splits_assignments_and_condition() -> None:
    request = parse_request("updateattr /f/* Size 'Size+1' Name '\"x\"' 'Size>3'")
    assert request == rq.UpdateAttributes("/f/*", (("Size", "Size+1"), ("Name", '"x"')), "Size>3")


def test_addentry_pairs_attributes_with_values() -> None:
    assert parse_request("addentry /d/e a 1 b 'two words'") == rq.AddEntry(
        "/d/e", (("a", "1"), ("b", "two words"))
    )


def test_addentry_with_a_dangling_attribute_is_malformed() -> None:
    with pytest.raises(MalformedRequest, match="has no value"):
        parse_request("addentry /d/e a 1 b")


def test_commands_are_case_insensitive_and_unknown_ones_rejected() -> None:
    assert parse_request("PWD") == rq.PrintDir()
    with pytest.raises(UnknownCommand, match="frobnicate"):
        parse_request("frobnicate /x")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("createdir /a plain", rq.CreateDir("/a", plain=True)),
        ("rmdir /a", rq.RemoveDir("/a")),
        ("cd", rq.ChangeDir("/")),
        ("dir", rq.ListEntries(".")),
        ("listattr /a", rq.ListAttributes("/a")),
        ("addattr /a Size int", rq.AddAttribute("/a", "Size", "int")),
        ("removeattr /a Size", rq.RemoveAttribute("/a", "Size")),
        ("clearattr /a Size", rq.ClearAttribute("/a", "Size")),
        ("addentries /a/x /a/y", rq.AddEntries(("/a/x", "/a/y"))),
        ("setattr /a/* Size 3", rq.SetAttributes("/a/*", (("Size", "3"),))),
        ("getattr /a/x Size Name", rq.GetAttributes("/a/x", ("Size", "Name"))),
        ("rm /a/x", rq.Remove("/a/x")),
        ("find /a 'Size>2'", rq.Find("/a", "Size>2")),
        ("upload /a Size", rq.Upload("/a", ("Size",))),
        ("put x 3", rq.Put("x", ("3",))),
        ("transaction", rq.Begin()),
        ("commit", rq.Commit()),
        ("abort", rq.Abort()),
        ("sequence_create s /a 2 10", rq.SequenceCreate("s", "/a", 2, 10)),
        ("sequence_next /a/s", rq.SequenceNext("/a/s")),
        ("sequence_remove /a/s", rq.SequenceRemove("/a/s")),
        ("constraint_add_not_null /a Size", rq.ConstraintAdd("not_null", "/a", ("Size",))),
        ("constraint_add_unique /a x,y u1", rq.ConstraintAdd("unique", "/a", ("x", "y"), "u1")),
        (
            "constraint_add_reference /a J /jobs:J",
            rq.ConstraintAdd("reference", "/a", ("J", "/jobs:J")),
        ),
        ("constraint_add_check /a 'Size>0' c1", rq.ConstraintAdd("check", "/a", ("Size>0",), "c1")),
        ("constraint_drop /a c1", rq.ConstraintDrop("/a", "c1")),
        ("constraint_list /a", rq.ConstraintList("/a")),
        ("acl_add /a alice rw", rq.AclAdd("/a", "alice", "rw")),
        ("acl_remove /a alice", rq.AclRemove("/a", "alice", "rwx")),
        ("acl_show /a", rq.AclShow("/a")),
        ("chown /a alice", rq.ChangeOwner("/a", "alice")),
        ("whoami", rq.WhoAmI()),
    ],
)
def test_every_command_parses_into_its_request(line: str, expected: rq.Request) -> None:
    assert parse_request(line) == expected


@pytest.mark.parametrize(
    "line",
    ["", "pwd extra", "createdir /a fancy", "sequence_create s /a two", "selectattr /a:x", "rm"],
)
def test_malformed_requests_name_the_problem(line: str) -> None:
    with pytest.raises(MalformedRequest):
        parse_request(line)


def test_option_block_variants() -> None:
    assert parse_options(["plain"]).ssl is False
    assert parse_options(["ssl"]).ssl is True
    resume = parse_options(["resume123"])
    assert (resume.resume, resume.ssl, resume.expects_reply, resume.expects_context) == (
        123,
        False,
        False,
        False,
    )
    assert parse_options(["resumeSSL7"]).expects_reply is True
    with pytest.raises(MalformedRequest):
        parse_options(["telnet"])


def test_context_block_gives_login_and_password() -> None:
    context = parse_context(["0 alice", "5 s3cret with space"])
    assert (context.login, context.password) == ("alice", "s3cret with space")
    assert parse_context([]).login == "anonymous"


def _decode(chunks: list[bytes]) -> list[object]:
    decoder = ResponseDecoder()
    events: list[object] = []
    for chunk in chunks:
        decoder.feed(chunk)
        while (event := decoder.next_event()) is not None:
            events.append(event)
    return events


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), max_size=8))
def test_decoder_gives_the_same_events_however_the_bytes_are_split(cuts: list[int]) -> None:
    data = b"0\na\n\nb\\nc\n\x04\x04" + b"12 bad thing\n\x04session77\x04" + b"0\n\x04\x04"
    chunks, position = [], 0
    for cut in cuts:
        chunks.append(data[position : position + cut])
        position += cut
    chunks.append(data[position:])
    assert _decode(chunks) == [
        "0",
        "a",
        "",
        "b\\nc",
        End(),
        "12 bad thing",
        End(77),
        "0",
        End(),
    ]


def test_decoder_waits_for_the_second_eot_of_protocol_two() -> None:
    decoder = ResponseDecoder()
    decoder.feed(b"0\n\x04")
    assert decoder.next_event() == "0"
    assert decoder.peek() is None and decoder.next_event() is None
    decoder.feed(b"\x04")
    assert decoder.peek() == "end"
    assert decoder.next_event() == End()
    assert not decoder.pending


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.text(),
    st.sampled_from(["a\nb", "end\x04", "C:\\dir", "cr\r", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(
            st.one_of(
                st.tuples(*[_VALUES] * width),
                # a column of one type, as a result column nearly always is
                st.tuples(*[st.integers()] * width),
                st.tuples(*[st.datetimes()] * width),
                st.tuples(*[st.text()] * width),
                st.tuples(*[st.booleans()] * width),
            ),
            max_size=6,
        )
    )
)
def test_a_batch_of_rows_goes_out_as_its_values_one_by_one(groups: list[tuple]) -> None:
    """``table`` (the server's column-wise formatting of a result batch) sends the bytes of
    ``format_value`` value by value, escapes included."""
    expected = "".join(responses.format_value(v) + "\n" for group in groups for v in group)
    assert responses.table(groups) == expected.encode()


def test_rows_of_unequal_width_go_out_value_by_value() -> None:
    assert responses.table([("a", 1), ("b",)]) == b"a\n1\nb\n"


def test_decoder_hands_out_lines_decoded_by_the_chunk_in_order() -> None:
    decoder = ResponseDecoder()
    decoder.feed(b"0\na\nb\\nc\nd\n\x04\x04" + b"0\nnext\n")
    assert decoder.next_event() == "0"
    assert decoder.next_lines(2) == ["a", "b\\nc"]
    assert decoder.peek() == "line"
    assert decoder.next_lines(5) == ["d"]  # never past the end marker
    assert decoder.next_lines(5) == []
    assert decoder.next_event() == End()
    assert decoder.take_lines() == ["0", "next"]
    assert not decoder.pending
