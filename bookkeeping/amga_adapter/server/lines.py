"""Turning the socket's byte stream into request lines, with CAN and length limits.

A reader task feeds a bounded queue (so a client flooding ``put`` lines is slowed by TCP
back-pressure rather than buffered without end). The CAN byte (``\\030``) may arrive at any
time; it is removed from the stream and recorded as ``cancel_mark``: the number of complete
lines read before it. The command of line *n* is cancelled when ``cancel_mark >= n``, so a
CAN sent right behind its command still counts, and a late CAN never hits the next command.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

CAN = 0x18
_CHUNK = 65536
_HEAD = 64  # bytes of a skipped line kept: enough to tell its command (put or not)


@dataclass(frozen=True, slots=True)
class TooLong:
    """Stands in the queue for a line that exceeded the limit (and was skipped); ``head``
    is its beginning, so an over-long ``put`` can be told from a command awaiting a reply."""

    length: int
    head: str = ""


Line = str | TooLong | None  # None: the peer closed the connection


class LineReader:
    def __init__(self, reader: asyncio.StreamReader, *, max_line: int, queue_size: int = 64):
        self._reader = reader
        self._max_line = max_line
        self.lines: asyncio.Queue[Line] = asyncio.Queue(queue_size)
        self.cancel_mark = 0
        self._count = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        pending = bytearray()
        skipping = 0  # >0 while discarding the rest of an over-long line
        head = b""
        try:
            while chunk := await self._reader.read(_CHUNK):
                segments = chunk.split(bytes([CAN]))
                for index, segment in enumerate(segments):
                    if index:
                        # Lines of this segment's predecessors are counted once queued, so
                        # count the complete lines still pending too.
                        self.cancel_mark = self._count + pending.count(b"\n")
                    pending += segment
                while (newline := pending.find(b"\n")) > -1:
                    line = bytes(pending[:newline])
                    del pending[: newline + 1]
                    self._count += 1
                    if skipping:
                        await self.lines.put(TooLong(skipping + len(line), _text(head)))
                        skipping = 0
                    elif len(line) > self._max_line:
                        await self.lines.put(TooLong(len(line), _text(line[:_HEAD])))
                    else:
                        await self.lines.put(line.rstrip(b"\r").decode("utf-8", "replace"))
                if len(pending) > self._max_line:
                    if not skipping:
                        head = bytes(pending[:_HEAD])
                    skipping += len(pending)
                    pending.clear()
        except (ConnectionError, OSError):
            pass
        await self.lines.put(None)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
