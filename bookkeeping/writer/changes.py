"""Changes to recorded files: visibility and copies (replicas).

In LHCb's practice a file is never deleted from the bookkeeping: it is *made invisible*
(and visible again); its copies come and go as data is recalled to disk areas, cleaned from
them, replicated to a site or lost. ``BookkeepingWriter.set_visibility``, ``add_replicas``,
``remove_replicas`` and ``change_replicas`` record that, each call for any number of files
and atomically: every file changes or none does.

Both implementations check their input here and compute what a file's copies become with
the same functions (``AddCopy``, ``RemoveCopy``, ``ChangeCopy``), so they change and refuse
alike:

- an LFN the bookkeeping does not know is ``UnknownFile``, naming it; a malformed LFN, site,
  storage class, area, status or PFN is a ``ValidationError`` naming the field;
- adding a copy a file has already (same site, storage class and area) with the same status
  and PFN changes nothing for that file; with another status or PFN it is
  ``ReplicaConflict`` (``change_replicas`` changes a copy);
- removing or changing a copy a file does not have is ``UnknownReplica``, naming the file and
  the copy (a wrong site or area is a mistake worth reporting); changing a recall copy's
  area onto another copy of the file is ``ReplicaConflict``;
- making a file as visible as it is already changes nothing.

The calls return how many files changed.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bookkeeping.errors import BookkeepingError, Kind, ValidationError
from bookkeeping.writer.model import REPLICA_STATUSES, ReplicaSpec
from bookkeeping.writer.validation import lfn_problems, replica_problems

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_FILES = 100_000  # per call: one transaction, its look-ups and locks held to the end
_SHOWN = 5  # names quoted in a message


class UnknownFile(BookkeepingError):
    """An LFN the bookkeeping has not recorded; nothing was changed."""

    code = 84
    kind = Kind.NOT_FOUND


class UnknownReplica(BookkeepingError):
    """A copy to remove or change that a file does not have; nothing was changed."""

    code = 85
    kind = Kind.NOT_FOUND


class ReplicaConflict(BookkeepingError):
    """A copy to add that a file has already with another status or PFN, or a recall copy
    moved onto another copy of the file; nothing was changed."""

    code = 86
    kind = Kind.CONFLICT
    sqlstate = "23000"


@dataclass(frozen=True, order=True)
class ReplicaKey:
    """Which copy of a file: a tape or disk copy at a site, or a recall copy in a disk area
    (the warehouse's primary key of a replica, with the file)."""

    site: str
    storage_class: str
    area: str = ""


@dataclass(frozen=True)
class Copy:
    """A recorded copy of a file."""

    key: ReplicaKey
    status: str
    pfn: str
    se: str = ""  # the storage element holding the bytes and the path there (or both "")
    path: str = ""

    @classmethod
    def of(cls, spec: ReplicaSpec) -> Copy:
        key = ReplicaKey(spec.site, spec.storage_class, spec.area)
        return cls(key, spec.status, spec.pfn, spec.se, spec.path)

    def spec(self) -> ReplicaSpec:
        key = self.key
        return ReplicaSpec(
            key.site, key.storage_class, key.area, self.status, self.pfn, self.se, self.path
        )


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" (and {len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def checked_lfns(lfns: Sequence[str]) -> list[str]:
    """The distinct LFNs of ``lfns`` in their order; ``ValidationError`` naming the bad ones."""
    if isinstance(lfns, str):
        raise TypeError("lfns must be a sequence of LFNs, not one string")
    wanted = list(dict.fromkeys(lfns))
    if len(wanted) > MAX_FILES:
        raise ValidationError(f"at most {MAX_FILES} files per change, not {len(wanted)}")
    bad = [repr(lfn) for lfn in wanted if not isinstance(lfn, str) or lfn_problems(lfn)]
    if bad:
        raise ValidationError(f"not an LFN: {_listed(bad)}", lfns=bad)
    return wanted


def check_known(lfns: Sequence[str], known: Container[str]) -> None:
    """``UnknownFile`` naming the LFNs of ``lfns`` not in ``known``."""
    missing = [lfn for lfn in lfns if lfn not in known]
    if missing:
        raise UnknownFile(f"no such file in the bookkeeping: {_listed(missing)}", lfns=missing)


def _check_copy(spec: ReplicaSpec) -> None:
    for value in (
        spec.site,
        spec.storage_class,
        spec.area,
        spec.status,
        spec.pfn,
        spec.se,
        spec.path,
    ):
        if not isinstance(value, str):
            raise TypeError(f"replica fields are strings, not {type(value).__name__}")
    problems = replica_problems(spec)
    if problems:
        raise ValidationError(f"invalid replica: {'; '.join(problems)}", problems=problems)


def _describe(key: ReplicaKey) -> str:
    area = f" in area {key.area!r}" if key.area else ""
    return f"{key.storage_class} copy at {key.site}{area}"


@dataclass(frozen=True)
class AddCopy:
    """``add_replicas``: the same copy for every file (e.g. recalled to one disk area);
    ``add_replicas_at``: with ``paths``, each file's copy at its own path on the SE."""

    replica: ReplicaSpec
    paths: Mapping[str, str] | None = None  # LFN -> path on replica.se

    def check(self) -> None:
        if self.paths is None:
            _check_copy(self.replica)
            return
        if not self.replica.se:
            raise ValidationError("copies at paths need the storage element they are on")
        for path in dict.fromkeys(self.paths.values()):
            _check_copy(replace(self.replica, path=path))

    def _spec(self, lfn: str) -> ReplicaSpec:
        return self.replica if self.paths is None else replace(self.replica, path=self.paths[lfn])

    @property
    def site(self) -> str:
        return self.replica.site

    def apply(self, lfn: str, copies: Sequence[Copy]) -> list[Copy] | None:
        """``copies`` with the new one last, or ``None`` when the file has it already."""
        new = Copy.of(self._spec(lfn))
        for copy in copies:
            if copy.key == new.key:
                if copy == new:
                    return None
                raise ReplicaConflict(
                    f"{lfn} has its {_describe(new.key)} already, {copy.status} with PFN "
                    f"{copy.pfn!r}: change it with change_replicas",
                    lfn=lfn,
                )
        return [*copies, new]


@dataclass(frozen=True)
class RemoveCopy:
    """``remove_replicas``: forget the copy ``key`` of every file."""

    key: ReplicaKey

    def check(self) -> None:
        _check_copy(ReplicaSpec(self.key.site, self.key.storage_class, self.key.area))

    @property
    def site(self) -> str:
        return self.key.site

    def apply(self, lfn: str, copies: Sequence[Copy]) -> list[Copy] | None:
        kept = [copy for copy in copies if copy.key != self.key]
        if len(kept) == len(copies):
            raise UnknownReplica(f"{lfn} has no {_describe(self.key)}", lfn=lfn)
        return kept


@dataclass(frozen=True)
class ChangeCopy:
    """``change_replicas``: new status, PFN, (recall copies) area, or storage element and
    path of the copy ``key``; ``None`` keeps a field."""

    key: ReplicaKey
    status: str | None = None
    pfn: str | None = None
    area: str | None = None
    se: str | None = None
    path: str | None = None

    def _changed(self, copy: Copy) -> Copy:
        return Copy(
            replace(copy.key, area=copy.key.area if self.area is None else self.area),
            copy.status if self.status is None else self.status,
            copy.pfn if self.pfn is None else self.pfn,
            copy.se if self.se is None else self.se,
            copy.path if self.path is None else self.path,
        )

    def check(self) -> None:
        _check_copy(ReplicaSpec(self.key.site, self.key.storage_class, self.key.area))
        if (self.se is None) != (self.path is None):
            raise ValidationError("change a copy's storage element and path together")
        _check_copy(self._changed(Copy(self.key, "available", "")).spec())

    @property
    def site(self) -> str:
        return self.key.site

    def apply(self, lfn: str, copies: Sequence[Copy]) -> list[Copy] | None:
        """``copies`` with the copy changed in its place, ``None`` when nothing changes."""
        found = [i for i, copy in enumerate(copies) if copy.key == self.key]
        if not found:
            raise UnknownReplica(f"{lfn} has no {_describe(self.key)}", lfn=lfn)
        changed = self._changed(copies[found[0]])
        if changed == copies[found[0]]:
            return None
        if changed.key != self.key and any(copy.key == changed.key for copy in copies):
            raise ReplicaConflict(f"{lfn} has its {_describe(changed.key)} already", lfn=lfn)
        result = list(copies)
        result[found[0]] = changed
        return result


ReplicaChange = AddCopy | RemoveCopy | ChangeCopy


@dataclass(frozen=True)
class MarkedCopies:
    """What ``mark_copies_at`` found: the copies recorded on the storage element at the paths
    asked (path -> LFN of the file), and how many of them were in another status."""

    found: dict[str, str]
    changed: int


# Runs in the transaction of ``mark_copies_at``, before it commits: what the caller writes
# on that connection commits or rolls back with the marks.
ThenHook = Callable[["Connection", MarkedCopies], None]


def checked_marks(se: str, copies: Mapping[str, str], status: str) -> dict[str, str]:
    """``mark_copies_at``'s arguments checked: path on the SE -> LFN, as strings."""
    if not isinstance(se, str) or not se:
        raise ValidationError(f"a storage element name is a non-empty string, not {se!r}")
    if status not in REPLICA_STATUSES:
        known = ", ".join(REPLICA_STATUSES)
        raise ValidationError(f"replica status {status!r} is not one of {known}")
    wanted = dict(copies)
    if len(wanted) > MAX_FILES:
        raise ValidationError(f"at most {MAX_FILES} files per change, not {len(wanted)}")
    bad = [repr(k) for k, v in wanted.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ValidationError(f"paths and LFNs are strings: {_listed(bad)}")
    return wanted
