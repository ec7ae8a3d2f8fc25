"""Many files at once: ``put_files`` and ``get_files``, the batch forms of ``put_file`` and
``get_file`` (same checks, same order of bytes before rows).

A batch reads what the bookkeeping records for all its files in a few calls
(``files_metadata``, ``replicas_of``), opens each storage element once, and on a tape
library writes or reads the files in one mount per cartridge (``write_batch``,
``read_batch``, ordered by position). A file that fails (unknown, wrong bytes, a copy on
another SE) is reported in ``failed`` naming the problem; the rest of the batch goes on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, FileRecord, JobReport
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import ChecksumMismatch, StorageFileNotFound
from bookkeeping.storage.paths import normalise
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.storage.tape import TapeElement
from bookkeeping.storage.transfer import (
    REAL_SIZE_PARAMETER,
    Transfer,
    existing_copy,
    ranked_replicas,
    register_many,
    replica_spec,
    store_checked,
)

COPIES_AT_ONCE = 8  # files copied at the same time by one batch


@dataclass
class BatchResult:
    done: list[Transfer] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (LFN, what went wrong)


def _expected(bookkeeping: Bookkeeping, record: FileRecord, local_size: int) -> tuple[int, str]:
    """(size, adler32) the bytes must have. ``RealSize`` is looked up only when the local
    file is not of the nominal size (the adler32 is checked whichever size it is)."""
    if local_size == record.size:
        return record.size, record.checksum
    real = bookkeeping.file_parameter(record.file_id, REAL_SIZE_PARAMETER)
    return (int(real) if real else record.size), record.checksum


def put_files(
    bookkeeping: Bookkeeping,
    writers: Sequence[BookkeepingWriter],
    registry: StorageRegistry,
    items: Sequence[tuple[Path, str]],
    se: str,
) -> BatchResult:
    """Copy each local file to the SE ``se`` at its LFN, then record the copies."""
    result = BatchResult()
    se_record = registry.get(se)
    found = bookkeeping.files_metadata([lfn for _, lfn in items])
    records = {record.lfn: record for record in found.found}
    for lfn in found.missing:
        result.failed.append((lfn, f"no such file in the bookkeeping: {lfn}"))
    copies = bookkeeping.replicas_of([record.file_id for record in found.found])
    ready = []  # (local, record, size, adler32, spec)
    for local, lfn in items:
        record = records.get(lfn)
        if record is None:
            continue
        try:
            local_size = local.stat().st_size
            size, adler32 = _expected(bookkeeping, record, local_size)
            spec = replica_spec(se_record, normalise(lfn, se))
            existing_copy(bookkeeping, record, spec, copies[record.file_id])
            if local_size != size:
                raise ChecksumMismatch(f"local file {local} has not the {size} bytes of {lfn}")
        except (BookkeepingError, OSError) as exc:
            result.failed.append((lfn, str(exc)))
            continue
        ready.append((local, record, size, adler32, spec))
    element = registry.open(se_record)
    try:
        if isinstance(element, TapeElement):
            stored = _put_on_tape(element, ready, result)
        else:
            stored = []

            def copy(item: tuple) -> BookkeepingError | OSError | None:
                local, record, size, adler32, spec = item
                try:
                    store_checked(element, local, spec.path, size, adler32)
                except (BookkeepingError, OSError) as exc:
                    return exc
                return None

            # Copies overlap (each waits on its fsync or its server round trips); the rows
            # are written afterwards, in order, from this thread.
            with ThreadPoolExecutor(COPIES_AT_ONCE) as pool:
                for item, error in zip(ready, pool.map(copy, ready), strict=True):
                    if error is None:
                        stored.append(item[1:])
                    else:
                        result.failed.append((item[1].lfn, str(error)))
    finally:
        element.close()
    # Bytes durable: now the rows, one change per writer for the whole batch.
    paths = {record.lfn: spec.path for record, _, _, spec in stored}
    if stored:
        try:
            register_many(writers, paths, replace(stored[0][3], path=""))
        except BookkeepingError as exc:
            result.failed.extend((record.lfn, str(exc)) for record, *_ in stored)
            return result
    for record, size, adler32, spec in stored:
        result.done.append(Transfer(record.lfn, se, spec.path, size, adler32))
    return result


def _put_on_tape(element: TapeElement, ready: list, result: BatchResult) -> list:
    """One ``write_batch`` (a mount per cartridge) for the files not there yet; a file whose
    bytes differ from the recorded ones is taken off the tape again and reported."""
    fresh = [item for item in ready if not element.exists(item[4].path)]
    there = [item for item in ready if item not in fresh]
    stored = []
    for _local, record, size, adler32, spec in there:
        stat = element.stat(spec.path)
        if (stat.size, stat.adler32) == (size, adler32):
            stored.append((record, size, adler32, spec))
        else:
            result.failed.append((record.lfn, f"{spec.path} on {element.name} has other bytes"))
    written = element.write_batch([(local, spec.path) for local, _, _, _, spec in fresh])
    for (_, record, size, adler32, spec), place in zip(fresh, written, strict=False):
        if (place.size, place.adler32) != (size, adler32):
            element.delete(place.path)
            result.failed.append(
                (record.lfn, f"{record.lfn}: bytes written differ from the recorded ones")
            )
        else:
            stored.append((record, size, adler32, spec))
    return stored


def get_files(
    bookkeeping: Bookkeeping,
    registry: StorageRegistry,
    lfns: Sequence[str],
    directory: Path,
    *,
    se: str | None = None,
) -> BatchResult:
    """Copy the best replica of each LFN (only its copy on ``se`` if given) into
    ``directory`` (named by the LFN's last part), verified; tape copies are read per library
    in position order."""
    result = BatchResult()
    found = bookkeeping.files_metadata(list(lfns))
    for lfn in found.missing:
        result.failed.append((lfn, f"no such file in the bookkeeping: {lfn}"))
    copies = bookkeeping.replicas_of([record.file_id for record in found.found])
    plans: dict[str, list] = {}  # SE -> [(record, replica, target, size, adler32)]
    records = {}
    for record in found.found:
        ranked = ranked_replicas(registry, copies[record.file_id])
        if se is not None:
            ranked = [item for item in ranked if item[1].name == se]
        if not ranked:
            result.failed.append((record.lfn, f"{record.lfn} has no available copy on an SE"))
            continue
        replica, se_record = ranked[0]
        records[se_record.name] = se_record
        size, adler32 = record.size, record.checksum  # RealSize looked up when it matters
        target = directory / record.lfn.rsplit("/", 1)[-1]
        plans.setdefault(se_record.name, []).append((record, replica, target, size, adler32))
    for name, plan in plans.items():
        element = registry.open(records[name])
        try:
            temporaries = [
                p[2].parent / f".{p[2].name}.bk-part-{secrets.token_hex(6)}" for p in plan
            ]
            if isinstance(element, TapeElement):
                read = element.read_batch(
                    [(p[1].path, t) for p, t in zip(plan, temporaries, strict=True)]
                )
                stats: list[tuple[int, str | None]] = [(r.size, r.adler32) for r in read]
            else:

                def fetch(pair: tuple, element: StorageElement = element) -> tuple[int, str | None]:
                    planned, temporary = pair
                    try:
                        got = element.get(planned[1].path, temporary)
                    except (StorageFileNotFound, OSError) as exc:
                        return -1, str(exc)
                    return got.size, got.adler32

                with ThreadPoolExecutor(COPIES_AT_ONCE) as pool:
                    stats = list(pool.map(fetch, zip(plan, temporaries, strict=True)))
            for (record, replica, target, size, adler32), temporary, stat in zip(
                plan, temporaries, stats, strict=True
            ):
                if stat[1] == adler32 and stat[0] not in (size, -1):
                    size = _expected(bookkeeping, record, stat[0])[0]  # scaled-down bytes?
                if stat != (size, adler32):
                    temporary.unlink(missing_ok=True)
                    result.failed.append(
                        (
                            record.lfn,
                            f"the copy of {record.lfn} at {replica.path} on storage element "
                            f"{name} has size {stat[0]} and adler32 {stat[1]}, not {size} "
                            f"and {adler32}",
                        )
                    )
                    continue
                os.replace(temporary, target)
                result.done.append(Transfer(record.lfn, name, replica.path, size, adler32))
        finally:
            element.close()
    return result


def upload_outputs(
    bookkeeping: Bookkeeping,
    writers: Sequence[BookkeepingWriter],
    registry: StorageRegistry,
    reports: Sequence[JobReport],
    folder: Path,
    se: str,
) -> BatchResult:
    """After recording job reports, put their output files found in ``folder`` (named by
    the LFN's last part) on ``se``, as ``put_files`` does: the production writer uploads a
    job's outputs the way it records them. Outputs not in ``folder`` are reported."""
    items, result = [], BatchResult()
    for report in reports:
        for output in report.output_files:
            local = folder / output.lfn.rsplit("/", 1)[-1]
            if local.is_file():
                items.append((local, output.lfn))
            else:
                result.failed.append((output.lfn, f"no local file {local} for {output.lfn}"))
    done = put_files(bookkeeping, writers, registry, items, se)
    done.failed[:0] = result.failed
    return done
