"""What data handling needs of the tape library beyond ``StorageElement``: where a file is
(cartridge, position), to group recalls per cartridge and read them in order, and writing
and reading batches with one mount per cartridge (``TapeElement.write_batch`` /
``read_batch``). Other elements are served file by file.

Batches go through a local spool folder, a bounded number of bytes at a time: the library
writes from and reads into local files, and a batch of a whole cartridge must not be held
open as a thousand streams. The library keeps a cartridge mounted between two calls, so
cutting a batch into spool-sized pieces costs no mount.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bookkeeping.errors import BookkeepingError
from bookkeeping.storage.element import StorageElement

log = logging.getLogger(__name__)
SPOOL_BYTES = 1_000_000_000


def tape_location(element: StorageElement, path: str) -> tuple[str | None, int | None]:
    """(cartridge, position) of a file on a tape element; (None, None) on other elements."""
    locate = getattr(element, "locate", None)
    if locate is None:
        return None, None
    where = locate(path)
    return str(where.cartridge), int(where.position)


@dataclass(frozen=True)
class TapeItem:
    path: str  # on tape
    size: int
    adler32: str
    source: StorageElement
    source_path: str


@dataclass
class BatchOutcome:
    written: list[str] = field(default_factory=list)  # tape paths now holding the bytes
    failed: dict[str, str] = field(default_factory=dict)  # tape path -> why not


def _pieces(items: Sequence[TapeItem]) -> Iterator[list[TapeItem]]:
    piece: list[TapeItem] = []
    size = 0
    for item in items:
        if piece and size + item.size > SPOOL_BYTES:
            yield piece
            piece, size = [], 0
        piece.append(item)
        size += item.size
    if piece:
        yield piece


def write_batch(tape: StorageElement, items: Sequence[TapeItem]) -> BatchOutcome:
    """Write ``items`` to ``tape``; a file already there with the expected checksum (a
    daemon killed after writing it) is not written again, one with another is replaced."""
    outcome = BatchOutcome()
    todo = []
    for item in items:
        try:
            if tape.exists(item.path):
                if tape.stat(item.path).adler32 == item.adler32:
                    outcome.written.append(item.path)
                    continue
                tape.delete(item.path)
        except BookkeepingError as exc:
            outcome.failed[item.path] = str(exc)
            continue
        todo.append(item)
    # Smallest first: once a file does not fit on a cartridge, no later one does, so the
    # library never goes back to a cartridge it left (which could mean mounting it again).
    todo.sort(key=lambda item: (item.size, item.path))
    with tempfile.TemporaryDirectory(prefix="bk-archive-") as folder:
        spool = Path(folder)
        for piece in _pieces(todo):
            _write_piece(tape, piece, spool, outcome)
    return outcome


def _write_piece(
    tape: StorageElement, piece: list[TapeItem], spool: Path, outcome: BatchOutcome
) -> None:
    local: list[tuple[Path, TapeItem]] = []
    for index, item in enumerate(piece):
        target = spool / str(index)
        try:
            read = item.source.get(item.source_path, target)
        except BookkeepingError as exc:
            outcome.failed[item.path] = f"reading {item.source.name}:{item.source_path}: {exc}"
            continue
        if (read.size, read.adler32) != (item.size, item.adler32):
            outcome.failed[item.path] = (
                f"{item.source.name}:{item.source_path} has size {read.size} and adler32 "
                f"{read.adler32}, the bookkeeping {item.size} and {item.adler32}"
            )
            continue
        local.append((target, item))
    batch = getattr(tape, "write_batch", None)
    try:
        if batch is not None:
            batch([(path, item.path) for path, item in local])
        else:
            for path, item in local:
                tape.put(path, item.path, expected_size=item.size, expected_adler32=item.adler32)
    except BookkeepingError as exc:
        log.warning("tape batch on %s stopped: %s", tape.name, exc)
        for _, item in local:  # the files before the failing one are written
            if not tape.exists(item.path):
                outcome.failed[item.path] = str(exc)
    for path, item in local:
        if item.path not in outcome.failed:
            outcome.written.append(item.path)
        path.unlink(missing_ok=True)


def read_batch(
    tape: StorageElement, items: Sequence[tuple[str, Path]]
) -> dict[str, BookkeepingError]:
    """Read ``(tape path, local target)`` pairs in cartridge order; returns what failed
    (path -> the error). A failing read stops the library's batch: the rest are read
    alone."""
    batch = getattr(tape, "read_batch", None)
    if batch is not None:
        try:
            batch(list(items))
            return {}
        except BookkeepingError as exc:
            log.warning("tape read batch on %s stopped: %s", tape.name, exc)
    failed: dict[str, BookkeepingError] = {}
    for path, target in items:
        if target.exists():
            continue
        try:
            tape.get(path, target)
        except BookkeepingError as exc:
            failed[path] = exc
    return failed
