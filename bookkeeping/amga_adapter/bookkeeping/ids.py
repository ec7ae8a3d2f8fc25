"""Catalogue bookkeeping ids: blocks from the catalogue's own sequences.

Jobs, files, file types and quality rows are numbered by four sequences, one in each
directory whose entries they name (``/jobs/JOB_ID``, ``/files/FILE_ID``,
``/typeParams/TYPE_ID``, ``/qualityParams/QUALITY_ID``). A writer reserves the block a batch
needs with one ``sequences_next`` call *outside* its data transaction: the sequence rows are
locked only for that short transaction, so parallel writers never wait on them for the
length of their writes, and never take the same ids. With one writer the blocks follow one
another and the ids are those of the warehouse writer (``bookkeeping.warehouse.ids``).

A missing sequence (a bookkeeping written before sequences numbered it) is created on first
use, starting above the largest id recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows, scalar
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    EntryExists,
    NoSuchSequence,
    SequenceExists,
)
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.writer.model import TYPE_PARAMETER_NAME, TYPE_PARAMETER_VERSION
from bookkeeping.writer.planning import FileTypeKey

JOB_SEQUENCE = f"{L.JOBS}/JOB_ID"
FILE_SEQUENCE = f"{L.FILES}/FILE_ID"
TYPE_SEQUENCE = f"{L.TYPE_PARAMS}/TYPE_ID"
QUALITY_SEQUENCE = f"{L.QUALITY_PARAMS}/QUALITY_ID"

# The attribute each sequence numbers (its largest value starts a new sequence).
_NUMBERED = {
    JOB_SEQUENCE: f"{L.JOBS}:JOB_ID",
    FILE_SEQUENCE: f"{L.FILES}:FILE_ID",
    TYPE_SEQUENCE: f"{L.TYPE_PARAMS}:TYPE_ID",
    QUALITY_SEQUENCE: f"{L.QUALITY_PARAMS}:QUALITY_ID",
}
FILE_TYPE_ATTEMPTS = 4


def reserve(session: CatalogueSession, counts: Mapping[str, int]) -> dict[str, int]:
    """The first id of a block of ``counts[sequence]`` ids of each sequence (zero: none),
    reserved and committed at once; call it outside a transaction."""
    wanted = {path: count for path, count in counts.items() if count > 0}
    if not wanted:
        return {}
    try:
        return session.sequences_next(wanted)
    except NoSuchSequence:  # nothing was reserved: create what is missing, then again
        ensure_sequences(session, wanted)
        return session.sequences_next(wanted)


def ensure_sequences(session: CatalogueSession, sequences: Iterable[str]) -> None:
    for path in sequences:
        directory, name = path.rsplit("/", 1)
        start = int(scalar(session, f"max({_NUMBERED[path]})") or 0) + 1
        try:
            session.sequence_create(name, directory, start=start)
        except SequenceExists:
            pass  # another writer made it, from the same largest id


def known_file_types(session: CatalogueSession) -> dict[FileTypeKey, int]:
    """(Name, Version) -> type id of every file type (file types are few)."""
    return {
        (name, version): int(type_id)
        for type_id, name, version in rows(
            session,
            [
                f"{L.TYPE_PARAMS}:TYPE_ID",
                f"{L.TYPE_PARAMS}:{TYPE_PARAMETER_NAME}",
                f"{L.TYPE_PARAMS}:{TYPE_PARAMETER_VERSION}",
            ],
        )
    }


def ensure_file_types(
    session: CatalogueSession, keys: Iterable[FileTypeKey], known: Mapping[FileTypeKey, int]
) -> dict[FileTypeKey, int]:
    """``known`` plus the ids of ``keys``, creating the missing file types (outside the
    data transaction). The unique (Name, Version) constraint of ``/typeParams`` lets one of
    two writers racing for a new file type create it; the other reads its id and tries again
    with what is still missing.

    Ids follow the order of ``keys`` (as the warehouse's do), but the new entries are
    inserted in (Name, Version) order: two writers inserting NEW then OTHER and OTHER then
    NEW would each hold one unique-index entry and wait for the other's, a deadlock the
    database breaks by failing one of them."""
    result = dict(known)
    wanted = list(dict.fromkeys(keys))
    for attempt in range(FILE_TYPE_ATTEMPTS):
        missing = [key for key in wanted if key not in result]
        if not missing:
            return result
        first = reserve(session, {TYPE_SEQUENCE: len(missing)})[TYPE_SEQUENCE]
        entries = [
            (
                str(first + offset),
                {
                    "TYPE_ID": first + offset,
                    TYPE_PARAMETER_NAME: name,
                    TYPE_PARAMETER_VERSION: version,
                },
            )
            for offset, (name, version) in sorted(enumerate(missing), key=lambda item: item[1])
        ]
        try:
            session.addentries(L.TYPE_PARAMS, entries)
        except (EntryExists, ConstraintViolation, DatabaseUnavailable):
            # Another writer won the race (or the database broke a lock cycle we were in
            # with a concurrent writer of other tables): take the winner's ids, try the rest.
            if attempt == FILE_TYPE_ATTEMPTS - 1:
                raise
            result.update(known_file_types(session))  # ours are a gap
            continue
        result.update((key, first + offset) for offset, key in enumerate(missing))
    return result
