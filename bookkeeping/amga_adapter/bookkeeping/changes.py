"""Changes to recorded files in the catalogue: visibility (``/files:VISIBLE``) and copies
(entries ``<file id>_<index>`` of ``/replicas/<SITE>``, the index giving the copies'
order), with the views in the same transaction. What changes and what is refused is
``bookkeeping/writer/changes.py``'s, shared with the warehouse.

A change goes as a batch of reports does (``writer.py``):

1. schema first, outside any transaction: the site directory of a copy being added, and
   the combinations the files will move to (``views.prepare_changes``, from what is
   recorded now);
2. one transaction: the files' ``/files`` entries are locked first (an update of
   ``VISIBLE`` to itself), so changes of the same files take turns; then their state is
   read, the change computed and checked (an error aborts it: nothing changed), the
   bookkeeping entries written and the views changed.

If a concurrent change made a file need a combination step 1 did not foresee, or the
transaction collided with another (a deadlock), it is taken again from step 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import site_union
from bookkeeping.amga_adapter.bookkeeping.views.changes import FileState
from bookkeeping.amga_adapter.bookkeeping.views.derive import copy_fold
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    EntryExists,
    NoSuchDirectory,
    TransactionError,
)
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.announce import ReplicasRemoved, announce, removed_copies
from bookkeeping.chunking import chunked
from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.retry import retrying
from bookkeeping.writer.changes import (
    AddCopy,
    Copy,
    ReplicaChange,
    ReplicaKey,
    check_known,
    checked_lfns,
)

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.bookkeeping.writer import ViewHooks

ATTEMPTS = 6
IN_CHUNK = 500  # values per "in (...)"


@dataclass(frozen=True)
class Visibility:
    """``set_visibility``."""

    visible: bool

    def check(self) -> None:
        if not isinstance(self.visible, bool):
            raise TypeError("visible must be True or False")


Change = Visibility | ReplicaChange


@dataclass
class _File:
    lfn: str
    file_id: int
    visible: bool
    copies: list[tuple[int, Copy]] = field(default_factory=list)  # (index, copy), in order

    def entry(self, index: int, site: str) -> str:
        return f"{L.replica_directory(site)}/{self.file_id}_{index}"


@dataclass
class _Plan:
    """What the change does to each file that changes."""

    files: dict[str, _File]
    outcome: dict[str, tuple[bool, list[Copy]]]  # lfn -> (visible, copies) after the change

    def states(self) -> dict[int, FileState]:
        return {
            self.files[lfn].file_id: FileState(
                visible,
                tuple(c.key.site for c in copies),
                copy_fold((c.key.site, L.replica_values(0, c.spec())) for c in copies),
            )
            for lfn, (visible, copies) in self.outcome.items()
        }


def apply(
    session: CatalogueSession, views: ViewHooks | None, lfns: Sequence[str], change: Change
) -> int:
    """Make ``change`` to the files ``lfns``; returns how many changed."""
    change.check()
    wanted = checked_lfns(lfns)
    if not wanted:
        return 0

    def attempt() -> int:
        plan = _plan(session, wanted, change)  # checks the change: errors change nothing
        if not plan.outcome:
            return 0
        if isinstance(change, AddCopy):
            L.ensure_replica_directory(session, change.site)
        if views is not None:
            views.prepare_changes(session, plan.states())
        try:
            return _transaction(session, views, wanted, change)
        except _PLAN_AGAIN as exc:
            raise _Collided(exc) from exc

    # The transaction met another writer (an entry, a directory, a constraint, a failed
    # commit) or the database refused for now (a deadlock, a lock timeout): plan again.
    try:
        return retrying(attempt, retry_on=lambda exc: isinstance(exc, _Collided), attempts=ATTEMPTS)
    except _Collided as collided:
        raise collided.error from None


_PLAN_AGAIN = (
    NoSuchDirectory,
    EntryExists,
    ConstraintViolation,
    TransactionError,
    DatabaseUnavailable,
)


class _Collided(Exception):
    """The change's transaction failed in a way planning again may cure."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _transaction(
    session: CatalogueSession, views: ViewHooks | None, wanted: list[str], change: Change
) -> int:
    session.begin()
    try:
        for chunk in chunked(wanted, IN_CHUNK):
            session.updateattr(
                L.FILES, [("VISIBLE", "VISIBLE")], f"LOGNAME in {L.literal_list(chunk)}"
            )
        plan = _plan(session, wanted, change)
        _write(session, plan, change)
        _announce(session, plan)
        if views is not None and plan.outcome:
            views.write_changes(session, plan.states())
    except BaseException:
        session.abort()
        if views is not None:
            views.aborted()
        raise
    try:
        session.commit()
    except BaseException:
        if views is not None:
            views.aborted()
        raise
    if views is not None:
        views.committed()
    return len(plan.outcome)


def _announce(session: CatalogueSession, plan: _Plan) -> None:
    """Copies removed, announced in the change's transaction (bookkeeping/announce.py)."""
    removed = [
        pair
        for lfn, (_, after) in plan.outcome.items()
        for pair in removed_copies(lfn, [copy for _, copy in plan.files[lfn].copies], after)
    ]
    connection = session.connection_in_transaction
    if removed and connection is not None:
        announce(connection, ReplicasRemoved(session.user, tuple(removed)))


def _plan(session: CatalogueSession, wanted: list[str], change: Change) -> _Plan:
    found = session.select_in(L.FILES, "LOGNAME", wanted, ["FILE_ID", "VISIBLE"])
    files = {
        str(lfn): _File(str(lfn), int(file_id), bool(visible)) for lfn, file_id, visible in found
    }
    check_known(wanted, files)
    outcome: dict[str, tuple[bool, list[Copy]]] = {}
    copies = _copies(session, [f.file_id for f in files.values()])
    for lfn in wanted:  # in the caller's order: the first file at fault is named
        item = files[lfn]
        item.copies = copies.get(item.file_id, [])
        current = [copy for _, copy in item.copies]
        if isinstance(change, Visibility):
            if item.visible != change.visible:
                outcome[lfn] = (change.visible, current)
            continue
        after = change.apply(lfn, current)
        if after is not None:
            outcome[lfn] = (item.visible, after)
    return _Plan(files, outcome)


def _copies(session: CatalogueSession, file_ids: list[int]) -> dict[int, list[tuple[int, Copy]]]:
    """file id -> its copies (index, copy) in their order, from every site directory."""
    sites = [path for path, kind in session.dir(L.REPLICAS) if kind == "collection"]
    found: dict[int, list[tuple[int, Copy]]] = defaultdict(list)
    if not sites:
        return found
    items = ["FILE", "FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA", "SE", "SEPATH"]
    for chunk in chunked(file_ids, IN_CHUNK):
        for directory, name, file_id, storage_class, area, status, pfn, se, path in site_union(
            session, sites, items, f"FILE_ID in {L.literal_list(chunk)}"
        ):
            site = str(directory).rsplit("/", 1)[-1]
            key = ReplicaKey(site, str(storage_class), str(area))
            index = int(str(name).rsplit("_", 1)[1])
            # SE and SEPATH are empty (or unset, in a directory laid out before them) for a
            # copy recorded without real storage.
            copy = Copy(key, str(status), str(pfn), str(se or ""), str(path or ""))
            found[int(file_id)].append((index, copy))
    for copies in found.values():
        copies.sort(key=lambda item: item[0])
    return found


def _write(session: CatalogueSession, plan: _Plan, change: Change) -> None:
    if isinstance(change, Visibility):
        names = [str(plan.files[lfn].file_id) for lfn in plan.outcome]
        value = "1" if change.visible else "0"
        for chunk in chunked(names, IN_CHUNK):
            session.updateattr(L.FILES, [("VISIBLE", value)], f"FILE in {L.literal_list(chunk)}")
        return
    added: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    in_place: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = defaultdict(list)
    for lfn, (_, after) in plan.outcome.items():
        item = plan.files[lfn]
        before = item.copies
        if len(after) > len(before):  # added: after every copy the file has
            index = max((i for i, _ in before), default=-1) + 1
            copy = after[-1]
            added[L.replica_directory(copy.key.site)].append(
                (f"{item.file_id}_{index}", L.replica_values(item.file_id, copy.spec()))
            )
        elif len(after) < len(before):  # removed
            kept = {copy.key for copy in after}
            for index, copy in before:
                if copy.key not in kept:
                    session.rm(item.entry(index, copy.key.site))
        else:  # changed in place
            for (index, old), new in zip(before, after, strict=True):
                if old != new:
                    values = tuple(  # only what changes: copies share a status, not a path
                        (name, after_value)
                        for name, before_value, after_value in (
                            ("AREA", old.key.area, new.key.area),
                            ("STATUS", old.status, new.status),
                            ("REPLICA", old.pfn, new.pfn),
                            ("SE", old.se, new.se),
                            ("SEPATH", old.path, new.path),
                        )
                        if before_value != after_value
                    )
                    directory = L.replica_directory(old.key.site)
                    in_place[(directory, values)].append(f"{item.file_id}_{index}")
    # entries getting the same values change in one statement per chunk (a change of
    # status for a thousand copies was a thousand round trips)
    for (directory, values), names in in_place.items():
        assignments = [(name, L.literal(value)) for name, value in values]
        for chunk in chunked(names, IN_CHUNK):
            condition = f"FILE in {L.literal_list(chunk)}"
            session.updateattr(directory, assignments, condition)
    for directory, entries in added.items():
        session.addentries(directory, entries)
