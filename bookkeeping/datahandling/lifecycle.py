"""Closing files and the rules that follow (seed 004): ``close_files`` moves files from
``open`` to ``closed`` in the bookkeeping, then applies the configured ``CloseRule``s, e.g.
"when an ``mc`` file is closed, its ``mcraw`` inputs' disk copies are deleted".

A disk copy goes row first, bytes second: the bookkeeping forgets the copy, then the storage
element deletes the file. A crash in between leaves an unregistered file (dark data, which
the audit finds), never a registered copy without bytes. A copy the rule cannot delete (its
storage element unknown or refusing) is named in the outcome and the rest goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bookkeeping.datahandling.config import CloseRule
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, Replica, ReplicaKey
from bookkeeping.storage.element import StorageElement

OpenElement = Callable[[str], StorageElement]


@dataclass(frozen=True)
class DeletedCopy:
    lfn: str
    se: str
    path: str


@dataclass(frozen=True)
class CloseOutcome:
    closed: int  # files that were open and are closed now
    deleted: tuple[DeletedCopy, ...]  # disk copies the rules deleted
    problems: tuple[str, ...]  # copies a rule could not delete, each named


def close_files(
    bookkeeping: Bookkeeping,
    writer: BookkeepingWriter,
    lfns: Sequence[str],
    rules: Sequence[CloseRule],
    open_element: OpenElement,
) -> CloseOutcome:
    """Close ``lfns`` (atomically: an unknown or archived file changes nothing) and apply
    ``rules`` to them; files closed already get the rules again (idempotent: what was
    deleted stays deleted)."""
    changed = writer.set_life_cycle(lfns, "closed")
    deleted: list[DeletedCopy] = []
    problems: list[str] = []
    if rules:
        found = bookkeeping.files_metadata(lfns).found
        doomed: dict[int, str] = {}  # input file id -> lfn
        for record in found:
            wanted = [rule for rule in rules if rule.applies_to(record.file_type)]
            if not wanted:
                continue
            for parent in bookkeeping.ancestors(record.file_id, 1):
                if any(rule.deletes(parent.file_type) for rule in wanted):
                    doomed[parent.file_id] = parent.lfn
        copies = bookkeeping.replicas_of(sorted(doomed))
        for file_id, lfn in sorted(doomed.items(), key=lambda item: item[1]):
            for replica in copies.get(file_id, ()):
                if replica.storage_class == "disk":
                    _delete(writer, lfn, replica, open_element, deleted, problems)
    return CloseOutcome(changed, tuple(deleted), tuple(problems))


def _delete(
    writer: BookkeepingWriter,
    lfn: str,
    replica: Replica,
    open_element: OpenElement,
    deleted: list[DeletedCopy],
    problems: list[str],
) -> None:
    se, path = replica.se, replica.path
    try:
        element = open_element(se) if se else None
    except BookkeepingError as exc:
        problems.append(f"{lfn}: disk copy on {se} kept: {exc}")
        return
    writer.remove_replicas([lfn], ReplicaKey(replica.site, "disk", replica.area))
    if element is None:  # a copy recorded without its storage element: only the row goes
        deleted.append(DeletedCopy(lfn, "", replica.pfn))
        return
    try:
        if element.exists(path):
            element.delete(path)
    except BookkeepingError as exc:
        problems.append(f"{lfn}: forgotten, but its bytes on {se}:{path} remain: {exc}")
        return
    deleted.append(DeletedCopy(lfn, se, path))
