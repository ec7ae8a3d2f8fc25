"""The envelope's JSON form and signatures: what is accepted and what is refused, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bookkeeping.syncat.errors import (
    BadSignature,
    MalformedMessage,
    UnknownMessageType,
    UnsupportedVersion,
)
from bookkeeping.syncat.messages import Envelope, MessageType, WireMessage, parse_envelope
from bookkeeping.syncat.signing import Signer, verify


def _envelope(**changes: object) -> Envelope:
    values: dict[str, object] = {
        "type": MessageType.FILE_LOST,
        "sender": "se:SE1",
        "requester": "root",
        "se": "SE1",
        "files": ({"path": "/lhcb/a.dst"}, {"path": "/lhcb/b.dst", "lfn": "/lhcb/b.dst"}),
    }
    values.update(changes)
    return Envelope(**values)  # type: ignore[arg-type]


def _raw(**fields: object) -> str:
    data = json.loads(_envelope().to_json())
    data.update(fields)
    return json.dumps(data)


def test_envelope_round_trips_through_json() -> None:
    envelope = _envelope()
    parsed = parse_envelope(envelope.to_json())
    assert parsed == envelope
    assert parsed.issued.tzinfo is not None and parsed.expires > parsed.issued  # type: ignore[operator]


def test_space_changed_carries_used_and_capacity() -> None:
    envelope = _envelope(type=MessageType.SPACE_CHANGED, files=(), extra={"used": 5, "capacity": 9})
    assert parse_envelope(envelope.to_json()).extra == {"used": 5, "capacity": 9}


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("{not json", MalformedMessage, "not JSON"),
        ("[1]", MalformedMessage, "not a JSON object"),
        (_raw(type="file_vanished"), UnknownMessageType, "file_vanished"),
        (_raw(version="2.0"), UnsupportedVersion, "2.0"),
        (_raw(version="one"), MalformedMessage, "MAJOR.MINOR"),
        (_raw(requester=""), MalformedMessage, "requester"),
        (_raw(issued="yesterday"), MalformedMessage, "issued"),
        (_raw(body={"se": "SE1", "files": [{"lfn": "/x"}]}), MalformedMessage, "'path'"),
        (_raw(body={"se": "SE1", "files": [{"path": "relative"}]}), MalformedMessage, "absolute"),
        (_raw(body={"se": "SE1", "files": [{"path": 3}]}), MalformedMessage, "str"),
        (_raw(body={"se": "SE1", "files": "x"}), MalformedMessage, "list"),
        (_raw(body={"files": []}), MalformedMessage, "'se'"),
    ],
)
def test_bad_envelopes_are_refused_naming_the_problem(
    text: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        parse_envelope(text)


def test_a_newer_minor_version_and_unknown_fields_are_accepted() -> None:
    data = json.loads(_raw(version="1.7"))
    data["body"]["files"][0]["priority"] = "high"
    assert parse_envelope(json.dumps(data)).files[0]["path"] == "/lhcb/a.dst"


def test_signature_verifies_and_tampering_breaks_it() -> None:
    signer = Signer.generate("se:SE1")
    wire = signer.sign(_envelope())
    verify(WireMessage.from_bytes(wire.to_bytes()))
    tampered = WireMessage(wire.envelope.replace("a.dst", "c.dst"), wire.key, wire.signature)
    with pytest.raises(BadSignature):
        verify(tampered)
    other = Signer.generate("se:SE1")
    with pytest.raises(BadSignature):
        verify(WireMessage(wire.envelope, other.public, wire.signature))


def test_a_message_without_signature_is_refused() -> None:
    raw = json.dumps({"envelope": _envelope().to_json()}).encode()
    with pytest.raises(BadSignature, match="no signature"):
        WireMessage.from_bytes(raw)


def test_an_endpoint_signs_only_as_itself() -> None:
    signer = Signer.generate("catalogue")
    with pytest.raises(Exception, match="cannot sign"):
        signer.sign(_envelope())


def test_times_are_utc_seconds() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = _envelope(issued=moment).to_json()
    assert '"issued":"2026-01-02T03:04:05Z"' in text
