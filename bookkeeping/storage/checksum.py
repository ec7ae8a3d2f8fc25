"""adler32 as HEP storage reports it: 8 lowercase hex digits, computed while streaming."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1 << 20  # 1 MiB: large enough for throughput, small enough never to matter


def format_adler32(value: int) -> str:
    return f"{value & 0xFFFFFFFF:08x}"


class Adler32:
    """Running adler32 and byte count of a stream (feed it every chunk as it passes)."""

    def __init__(self) -> None:
        self.value = 1
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.value = zlib.adler32(chunk, self.value)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return format_adler32(self.value)


def adler32_of_chunks(chunks: Iterable[bytes]) -> tuple[int, str]:
    """(size, adler32) of the concatenated chunks."""
    running = Adler32()
    for chunk in chunks:
        running.update(chunk)
    return running.size, running.hexdigest()


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        yield chunk


def adler32_of_file(path: Path) -> tuple[int, str]:
    """(size, adler32) of a local file, read in chunks."""
    with open(path, "rb") as stream:
        return adler32_of_chunks(read_chunks(stream))
