"""The syncat message: its types, its envelope and their JSON form (pure, no I/O).

On the wire a message is one JSON object (UTF-8)::

    {"envelope": "<the envelope, itself JSON, as a string>",
     "key": "<sender's Ed25519 public key, base64>",
     "signature": "<Ed25519 signature of the envelope string's UTF-8 bytes, base64>"}

The envelope travels as a string so that the signed bytes are exactly the bytes received:
no canonical JSON is needed to verify it, in any language. docs/syncat.md is the reference.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bookkeeping.syncat.errors import (
    BadSignature,
    MalformedMessage,
    UnknownMessageType,
    UnsupportedVersion,
)

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1  # 1.1: acl_changed
PROTOCOL_VERSION = f"{PROTOCOL_MAJOR}.{PROTOCOL_MINOR}"
DEFAULT_LIFETIME = timedelta(hours=24)
MAX_FILES = 10_000  # per message: bulk is native, but a message stays a few MB at most
MAX_BYTES = 8 * 1024 * 1024
_RIGHTS = re.compile(r"[r-][w-][x-]")


class MessageType(StrEnum):
    # upstream: storage element -> catalogue
    FILE_LOST = "file_lost"
    FILE_APPEARED = "file_appeared"
    FILE_CORRUPTED = "file_corrupted"
    SPACE_CHANGED = "space_changed"
    # downstream: catalogue -> storage element
    PERMISSIONS_CHANGED = "permissions_changed"
    FILE_DELETED = "file_deleted"
    REPLICA_WANTED = "replica_wanted"
    ACL_CHANGED = "acl_changed"  # since 1.1

    @property
    def upstream(self) -> bool:
        return self in UPSTREAM


UPSTREAM = frozenset(
    {
        MessageType.FILE_LOST,
        MessageType.FILE_APPEARED,
        MessageType.FILE_CORRUPTED,
        MessageType.SPACE_CHANGED,
    }
)

# Fields of a file item, per type: (required, optional) with their JSON types.
_FILE_FIELDS: dict[MessageType, tuple[dict[str, type], dict[str, type]]] = {
    MessageType.FILE_LOST: ({"path": str}, {"lfn": str}),
    MessageType.FILE_APPEARED: ({"path": str}, {"size": int, "adler32": str, "lfn": str}),
    MessageType.FILE_CORRUPTED: ({"path": str, "adler32": str}, {"expected": str, "lfn": str}),
    MessageType.SPACE_CHANGED: ({}, {}),
    MessageType.PERMISSIONS_CHANGED: ({"path": str, "mode": int}, {"lfn": str}),
    MessageType.FILE_DELETED: ({"path": str}, {"lfn": str}),
    MessageType.REPLICA_WANTED: ({"path": str}, {"lfn": str, "source": str}),
    MessageType.ACL_CHANGED: ({"path": str, "principal": str, "rights": str}, {}),
}


@dataclass(frozen=True)
class Envelope:
    """What is signed. ``files`` are the items of the body (bulk is native); ``extra`` the
    body's other fields (``used``/``capacity`` of ``space_changed``)."""

    type: MessageType
    sender: str  # the endpoint that signs, e.g. "catalogue" or "se:CERN-DISK"
    requester: str  # the identity on whose behalf, checked against the receiver's rights
    se: str  # the storage element the message is about
    files: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    issued: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    expires: datetime | None = None
    version: str = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        if self.expires is None:
            object.__setattr__(self, "expires", self.issued + DEFAULT_LIFETIME)

    def to_json(self) -> str:
        body: dict[str, Any] = {"se": self.se, "files": list(self.files), **self.extra}
        return json.dumps(
            {
                "version": self.version,
                "id": self.id,
                "type": str(self.type),
                "sender": self.sender,
                "requester": self.requester,
                "issued": _time_text(self.issued),
                "expires": _time_text(self.expires),  # type: ignore[arg-type]
                "body": body,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: object, name: str) -> datetime:
    if not isinstance(text, str):
        raise MalformedMessage(f"envelope field {name!r} must be a string (RFC 3339 UTC)")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedMessage(f"envelope field {name!r} is not a time: {text!r}") from None
    if moment.tzinfo is None:
        raise MalformedMessage(f"envelope field {name!r} has no time zone: {text!r}")
    return moment.astimezone(UTC)


def _string(data: dict[str, Any], name: str, where: str = "envelope") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"{where} field {name!r} must be a non-empty string")
    return value


def _check_version(text: str) -> None:
    major, _, minor = text.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise MalformedMessage(f"envelope version must be MAJOR.MINOR, not {text!r}")
    if int(major) != PROTOCOL_MAJOR:
        raise UnsupportedVersion(
            f"protocol version {text} is not understood here (this endpoint speaks "
            f"{PROTOCOL_MAJOR}.x)"
        )


def _check_file(kind: MessageType, index: int, item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MalformedMessage(f"file {index} of the body is not an object")
    required, optional = _FILE_FIELDS[kind]
    for name in required:
        if name not in item:
            raise MalformedMessage(f"file {index} of a {kind} message has no {name!r}")
    for name, value in item.items():
        expected = required.get(name) or optional.get(name)
        if expected is None:
            continue  # a newer minor version's field: ignored (docs/syncat.md, versioning)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise MalformedMessage(
                f"file {index}: {name!r} must be {expected.__name__}, not {value!r}"
            )
    rights = item.get("rights")
    if isinstance(rights, str) and not _RIGHTS.fullmatch(rights):
        raise MalformedMessage(f"file {index}: rights {rights!r} are not 'rwx' letters or '-'")
    path = item.get("path")
    if isinstance(path, str) and (not path.startswith("/") or "\x00" in path):
        raise MalformedMessage(f"file {index}: path {path!r} is not absolute")
    return item


def parse_envelope(text: str) -> Envelope:
    """The envelope of a (verified) message; ``MalformedMessage``, ``UnknownMessageType`` or
    ``UnsupportedVersion`` naming the problem."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedMessage(f"envelope is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedMessage("envelope is not a JSON object")
    _check_version(_string(data, "version"))
    try:
        kind = MessageType(_string(data, "type"))
    except ValueError:
        raise UnknownMessageType(f"unknown message type {data['type']!r}") from None
    body = data.get("body")
    if not isinstance(body, dict):
        raise MalformedMessage("envelope field 'body' must be an object")
    files = body.get("files", [])
    if not isinstance(files, list):
        raise MalformedMessage("body field 'files' must be a list")
    if len(files) > MAX_FILES:
        raise MalformedMessage(f"at most {MAX_FILES} files per message, not {len(files)}")
    extra = {k: v for k, v in body.items() if k not in {"se", "files"}}
    if kind is MessageType.SPACE_CHANGED:
        for name in ("used", "capacity"):
            value = extra.get(name)
            if name == "used" and not isinstance(value, int):
                raise MalformedMessage("a space_changed body needs an integer 'used'")
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise MalformedMessage(f"body field {name!r} must be an integer")
    return Envelope(
        type=kind,
        sender=_string(data, "sender"),
        requester=_string(data, "requester"),
        se=_string(body, "se", "body"),
        files=tuple(_check_file(kind, i, item) for i, item in enumerate(files)),
        extra=extra,
        id=_string(data, "id"),
        issued=_parse_time(data.get("issued"), "issued"),
        expires=_parse_time(data.get("expires"), "expires"),
        version=data["version"],
    )


@dataclass(frozen=True)
class WireMessage:
    """The three fields on the wire; ``envelope`` is the exact signed text."""

    envelope: str
    key: str
    signature: str

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"envelope": self.envelope, "key": self.key, "signature": self.signature},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> WireMessage:
        if len(raw) > MAX_BYTES:
            raise MalformedMessage(f"message of {len(raw)} bytes exceeds {MAX_BYTES}")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedMessage(f"message is not UTF-8 JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedMessage("message is not a JSON object")
        envelope = _string(data, "envelope", "message")
        if not isinstance(data.get("key"), str) or not isinstance(data.get("signature"), str):
            raise BadSignature("message has no signature or no key (both are required)")
        return cls(envelope, data["key"], data["signature"])
