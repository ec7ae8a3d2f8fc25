"""Reading server responses on the client side, I/O-free: feed bytes, take lines and ends.

Searches are bounded (an end marker is looked for only before the next newline) and consumed
bytes are dropped in large steps, so a response of millions of rows is decoded in linear
time without holding more than the unread part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bookkeeping.amga_adapter.protocol.quoting import unescape_value

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
        # Response lines decoded together (all the complete ones of what was received) and
        # handed out from ``_next`` on: one decode and split per chunk, not a search per
        # line, and a row of lines is one slice. ``_escaped``: whether any of them holds an
        # escape (one search per chunk, so escape-free rows skip the per-value check).
        self._ready: list[str] = []
        self._next = 0
        self._escaped = False
        self._decoded_escaped = False  # of the last _decode_lines

    @property
    def pending(self) -> bool:
        """Whether received bytes are still unread."""
        return self._next < len(self._ready) or len(self._buffer) > self._start

    def feed(self, data: bytes) -> None:
        if self._start > _COMPACT_AFTER:
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    def take_line(self) -> str | None:
        """The next raw line (greeting, option reply), or None until it is complete."""
        if self._next < len(self._ready):
            self._next += 1
            return self._ready[self._next - 1]
        newline = self._buffer.find(b"\n", self._start)
        if newline == -1:
            return None
        line = self._buffer[self._start : newline].decode()
        self._start = newline + 1
        return line

    def take_lines(self) -> list[str]:
        """Every complete response line received before the end marker (or the end of what
        was received), decoded at once (escapes undecoded); [] when there is none yet.
        Values escape EOT, so the first one received starts the end marker."""
        if self._next < len(self._ready):
            lines = self._ready[self._next :]
            self._drop_ready()
            return lines + self._decode_lines()
        return self._decode_lines()

    def next_lines(self, count: int) -> list[str]:
        """Up to ``count`` next response lines (escapes undecoded); fewer when the end
        marker or the end of what was received comes first, [] when it is next."""
        return self._next_ready(count)[0]

    def row(self, count: int) -> list[str | None] | None:
        """The next ``count`` lines as values, when all are decoded already and hold no
        escape (nearly every row of a result); None otherwise (take the long way)."""
        start = self._next
        end = start + count
        if end > len(self._ready) or self._escaped:
            return None
        self._next = end
        return self._ready[start:end]  # type: ignore[return-value]  # list is invariant

    def next_values(self, count: int) -> list[str]:
        """``next_lines`` with the escapes decoded (the rows of ``getSelectAttrEntry``)."""
        lines, escaped = self._next_ready(count)
        if not escaped:
            return lines
        return [line if "\\" not in line else unescape_value(line) for line in lines]

    def _next_ready(self, count: int) -> tuple[list[str], bool]:
        if self._next >= len(self._ready):
            self._ready = self._decode_lines()
            self._next = 0
            self._escaped = self._decoded_escaped
        start = self._next
        self._next = min(start + count, len(self._ready))
        return self._ready[start : self._next], self._escaped

    def _drop_ready(self) -> None:
        self._ready = []
        self._next = 0

    def _decode_lines(self) -> list[str]:
        eot = self._buffer.find(_EOT, self._start)
        limit = eot if eot > -1 else len(self._buffer)
        last = self._buffer.rfind(b"\n", self._start, limit)
        if last == -1:
            return []
        text = self._buffer[self._start : last].decode()
        self._start = last + 1
        self._decoded_escaped = "\\" in text
        return text.split("\n")

    def peek(self) -> Literal["line", "end"] | None:
        """What comes next in a response, once it is complete; None: more bytes needed."""
        if self._next < len(self._ready):
            return "line"
        newline, eot = self._find()
        if eot > -1:
            return "end" if self._end_of(eot) > -1 else None
        return "line" if newline > -1 else None

    def next_event(self) -> str | End | None:
        """The next response line (undecoded escapes) or end, or None: more bytes needed."""
        if self._next >= len(self._ready):
            self._ready = self._decode_lines()
            self._next = 0
            self._escaped = self._decoded_escaped
        if self._next < len(self._ready):
            self._next += 1
            return self._ready[self._next - 1]
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
