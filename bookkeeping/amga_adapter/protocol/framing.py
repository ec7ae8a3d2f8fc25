"""Reading server responses on the client side, I/O-free: feed bytes, take lines and ends.

Searches are bounded (an end marker is looked for only before the next newline) and consumed
bytes are dropped in large steps, so a response of millions of rows is decoded in linear
time without holding more than the unread part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

_EOT = 0x04
_SESSION = b"session"
_COMPACT_AFTER = 1 << 16


@dataclass(frozen=True, slots=True)
class End:
    """The end of a response; ``session_id`` when the server parked the session."""

    session_id: int | None = None


class ResponseDecoder:
    def __init__(self, protocol_version: int = 2) -> None:
        self.protocol_version = protocol_version
        self._buffer = bytearray()
        self._start = 0

    @property
    def pending(self) -> bool:
        """Whether received bytes are still unread."""
        return len(self._buffer) > self._start

    def feed(self, data: bytes) -> None:
        if self._start > _COMPACT_AFTER:
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    def take_line(self) -> str | None:
        """The next raw line (greeting, option reply), or None until it is complete."""
        newline = self._buffer.find(b"\n", self._start)
        if newline == -1:
            return None
        line = self._buffer[self._start : newline].decode()
        self._start = newline + 1
        return line

    def peek(self) -> Literal["line", "end"] | None:
        """What comes next in a response, once it is complete; None: more bytes needed."""
        newline, eot = self._find()
        if eot > -1:
            return "end" if self._end_of(eot) > -1 else None
        return "line" if newline > -1 else None

    def next_event(self) -> str | End | None:
        """The next response line (undecoded escapes) or end, or None: more bytes needed."""
        newline, eot = self._find()
        if eot > -1:
            last = self._end_of(eot)
            if last == -1:
                return None
            between = bytes(self._buffer[eot + 1 : last])
            self._start = last + 1
            number = between[len(_SESSION) :]
            if between.startswith(_SESSION) and number.isdigit():
                return End(int(number))
            return End()
        if newline == -1:
            return None
        line = self._buffer[self._start : newline].decode()
        self._start = newline + 1
        return line

    def _find(self) -> tuple[int, int]:
        """(newline, eot) positions; eot only when it comes before the next newline."""
        newline = self._buffer.find(b"\n", self._start)
        limit = newline if newline > -1 else len(self._buffer)
        return newline, self._buffer.find(_EOT, self._start, limit)

    def _end_of(self, eot: int) -> int:
        """Position of the marker's last byte (the second EOT with protocol 2), or -1."""
        if self.protocol_version < 2:
            return eot
        return self._buffer.find(_EOT, eot + 1)
