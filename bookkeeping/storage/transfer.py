"""Putting files of the bookkeeping on storage elements and getting them back, verified.

``put_file`` copies a local file to an SE and registers the replica through the writer
interface *only once the bytes are durable and checked* (size and adler32 against what the
bookkeeping records): a failure or a kill before registering leaves at most a file the
consistency audit reports as dark, never a replica without bytes. ``get_file`` chooses the
best replica (a disk copy, then a recalled copy, then tape), copies it and verifies size and
adler32 before the file gets its name; a mismatch is an error naming SE and file.

Sizes: a file's ``Size`` is its nominal size; when the bytes stored are of another size
(``bk generate --materialise`` writes scaled-down files) the file parameter ``RealSize``
holds theirs, and the checks use it. ``ADLER32`` is always the adler32 of the real bytes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from bookkeeping.interface import Bookkeeping, BookkeepingWriter, FileRecord, Replica
from bookkeeping.storage.checksum import adler32_of_file
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import (
    ChecksumMismatch,
    InvalidStorageElement,
    StorageExists,
    StorageFileNotFound,
    StorageUnavailable,
)
from bookkeeping.storage.paths import normalise
from bookkeeping.storage.registry import StorageElementRecord, StorageRegistry
from bookkeeping.writer.changes import ReplicaConflict, ReplicaKey, UnknownFile
from bookkeeping.writer.model import ReplicaSpec

REAL_SIZE_PARAMETER = "RealSize"
# Which copy ``get_file`` reads first: disk pools, then recall areas, then tape.
PREFERENCE = {"daq": 0, "offline": 0, "mc": 0, "recall": 1, "tape": 2}


@dataclass(frozen=True)
class Transfer:
    """What ``put_file`` stored or ``get_file`` read."""

    lfn: str
    se: str
    path: str
    size: int
    adler32: str


def storage_class_of(record: StorageElementRecord) -> str:
    if record.role == "tape":
        return "tape"
    return "recall" if record.role == "recall" else "disk"


def pfn_of(record: StorageElementRecord, path: str) -> str:
    """The copy's physical file name: the SE's URL (without parameters) and the path."""
    return record.url.split("?", 1)[0].rstrip("/") + path


def replica_spec(record: StorageElementRecord, path: str, area: str | None = None) -> ReplicaSpec:
    """The copy of a file at ``path`` on the SE ``record`` (a recall copy's area defaults to
    the SE's name)."""
    if not record.site:
        raise InvalidStorageElement(
            f"storage element {record.name} has no site: a copy on it cannot be recorded",
            se=record.name,
        )
    storage_class = storage_class_of(record)
    return ReplicaSpec(
        site=record.site,
        storage_class=storage_class,
        area=(area or record.name) if storage_class == "recall" else "",
        status="available",
        pfn=pfn_of(record, path),
        se=record.name,
        path=path,
    )


def expected_of(bookkeeping: Bookkeeping, record: FileRecord) -> tuple[int, str]:
    """(size of the real bytes, adler32) the bookkeeping records for a file."""
    real = bookkeeping.file_parameter(record.file_id, REAL_SIZE_PARAMETER)
    return (int(real) if real else record.size), record.checksum


def _record(bookkeeping: Bookkeeping, lfn: str) -> FileRecord:
    record = bookkeeping.file_by_lfn(lfn)
    if record is None:
        raise UnknownFile(f"no such file in the bookkeeping: {lfn}", lfns=[lfn])
    return record


def put_file(
    bookkeeping: Bookkeeping,
    writers: BookkeepingWriter | Sequence[BookkeepingWriter],
    registry: StorageRegistry,
    local: Path,
    lfn: str,
    se: str,
    *,
    path: str | None = None,
    area: str | None = None,
) -> Transfer:
    """Copy ``local`` (the bytes of the recorded file ``lfn``) to the SE ``se`` at ``path``
    (default: the LFN), then record the copy with every writer. A file already there with
    the right size and adler32 (a put killed before registering) is registered, not copied
    again."""
    record = _record(bookkeeping, lfn)
    size, adler32 = expected_of(bookkeeping, record)
    se_record = registry.get(se)
    target = normalise(path or lfn, se)
    spec = replica_spec(se_record, target, area)  # refuses an SE without a site, early
    existing_copy(bookkeeping, record, spec)  # on another SE: refused before copying
    try:
        local_size = local.stat().st_size
    except FileNotFoundError:
        raise StorageFileNotFound(f"no local file {local} to put as {lfn}") from None
    if local_size != size:
        raise ChecksumMismatch(
            f"local file {local} has {local_size} bytes, but {lfn} has {size}; nothing stored",
            lfn=lfn,
        )
    element = registry.open(se_record)
    try:
        stored = store_checked(element, local, target, size, adler32)
    finally:
        element.close()
    register(writers if isinstance(writers, Sequence) else [writers], lfn, spec)
    return Transfer(lfn, se, target, stored[0], stored[1])


def store_checked(
    element: StorageElement, local: Path, target: str, size: int, adler32: str
) -> tuple[int, str]:
    try:
        stat = element.put(local, target, expected_size=size, expected_adler32=adler32)
        return stat.size, stat.adler32 or adler32
    except StorageExists:
        # Already there (a put killed before registering?): the local bytes must still be
        # the recorded ones, and so must the stored ones.
        local_size, local_adler32 = adler32_of_file(local)
        if (local_size, local_adler32) != (size, adler32):
            raise ChecksumMismatch(
                f"local file {local} has size {local_size} and adler32 {local_adler32}, not "
                f"{size} and {adler32}; nothing stored on {element.name}",
                se=element.name,
                path=target,
            ) from None
        there = element.stat(target)
        if (there.size, there.adler32) != (size, adler32):
            raise StorageExists(
                f"{target} on storage element {element.name} exists already with other bytes "
                f"(size {there.size}, adler32 {there.adler32}); nothing stored",
                se=element.name,
                path=target,
            ) from None
        return size, adler32


def existing_copy(
    bookkeeping: Bookkeeping,
    record: FileRecord,
    spec: ReplicaSpec,
    copies: Iterable[Replica] | None = None,
) -> Replica | None:
    """The file's copy of the same site, class and area as ``spec``, if any (among
    ``copies`` when the caller read them already); ``ReplicaConflict`` when it is on another
    SE or path (checked before copying)."""
    key = ReplicaKey(spec.site, spec.storage_class, spec.area)
    for copy in bookkeeping.replicas(record.file_id) if copies is None else copies:
        if ReplicaKey(copy.site, copy.storage_class, copy.area) != key:
            continue
        if copy.se and (copy.se, copy.path) != (spec.se, spec.path):
            raise ReplicaConflict(
                f"{record.lfn} has its {spec.storage_class} copy at {spec.site} on storage "
                f"element {copy.se} ({copy.path}) already; nothing stored",
                lfn=record.lfn,
            )
        return copy
    return None


def register(writers: Iterable[BookkeepingWriter], lfn: str, spec: ReplicaSpec) -> None:
    """Record the copy ``spec`` of the file with every writer. Each decides on what it has
    recorded itself (a put killed between two writers left one of them without the copy):
    the very same copy is left alone, a copy of the same site, class and area recorded
    differently (without an SE: the generator's; lost) is changed into this one."""
    key = ReplicaKey(spec.site, spec.storage_class, spec.area)
    for writer in writers:
        try:
            writer.add_replicas([lfn], spec)
        except ReplicaConflict:
            writer.change_replicas(
                [lfn], key, status="available", pfn=spec.pfn, se=spec.se, path=spec.path
            )


def register_many(
    writers: Iterable[BookkeepingWriter], paths: dict[str, str], spec: ReplicaSpec
) -> None:
    """``register`` of the copy ``spec`` for many files, each at its path: one change per
    writer (``add_replicas_at``); a writer that refuses it (some file has a copy recorded
    differently) records them one by one."""
    for writer in writers:
        try:
            writer.add_replicas_at(paths, spec)
        except ReplicaConflict:
            for lfn, path in paths.items():
                register([writer], lfn, replace(spec, path=path))


def get_file(
    bookkeeping: Bookkeeping,
    registry: StorageRegistry,
    lfn: str,
    destination: Path | BinaryIO,
) -> Transfer:
    """Copy the best available replica of ``lfn`` to ``destination`` (a local path, written
    only once verified, or a writable stream), verifying size and adler32."""
    record = _record(bookkeeping, lfn)
    size, adler32 = expected_of(bookkeeping, record)
    candidates = ranked_replicas(registry, bookkeeping.replicas(record.file_id))
    if not candidates:
        raise StorageFileNotFound(f"{lfn} has no available copy on a storage element", lfn=lfn)
    problems: list[str] = []
    for replica, se_record in candidates:
        element = registry.open(se_record)
        try:
            return _fetch(element, replica, lfn, size, adler32, destination)
        except (StorageUnavailable, StorageFileNotFound) as exc:
            problems.append(str(exc))  # try the next copy
        finally:
            element.close()
    raise StorageUnavailable(f"no copy of {lfn} could be read: {'; '.join(problems)}", lfn=lfn)


def ranked_replicas(
    registry: StorageRegistry, replicas: Iterable[Replica]
) -> list[tuple[Replica, StorageElementRecord]]:
    """The available copies on registered SEs, best first (disk, recall, tape; then name)."""
    usable = [r for r in replicas if r.status == "available" and r.se and r.path]
    records = registry.records([r.se for r in usable])
    ranked = [(r, records[r.se]) for r in usable if r.se in records]
    ranked.sort(key=lambda item: (PREFERENCE[item[1].role], item[1].name, item[0].path))
    return ranked


def _fetch(
    element: StorageElement,
    replica: Replica,
    lfn: str,
    size: int,
    adler32: str,
    destination: Path | BinaryIO,
) -> Transfer:
    def mismatch(got_size: int, got_adler32: str | None) -> ChecksumMismatch:
        return ChecksumMismatch(
            f"the copy of {lfn} at {replica.path} on storage element {element.name} has size "
            f"{got_size} and adler32 {got_adler32}, not {size} and {adler32}",
            se=element.name,
            path=replica.path,
            lfn=lfn,
        )

    if not isinstance(destination, Path):
        got = element.get(replica.path, destination)
        if (got.size, got.adler32) != (size, adler32):
            raise mismatch(got.size, got.adler32)
        return Transfer(lfn, element.name, replica.path, got.size, adler32)
    if destination.is_dir():
        destination = destination / lfn.rsplit("/", 1)[-1]
    temporary = destination.parent / f".{destination.name}.bk-part-{secrets.token_hex(6)}"
    try:
        got = element.get(replica.path, temporary)
        if (got.size, got.adler32) != (size, adler32):
            raise mismatch(got.size, got.adler32)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return Transfer(lfn, element.name, replica.path, got.size, adler32)
