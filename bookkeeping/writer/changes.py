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

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bookkeeping.errors import BookkeepingError, ValidationError
from bookkeeping.writer.model import ReplicaSpec
from bookkeeping.writer.validation import lfn_problems, replica_problems

MAX_FILES = 100_000  # per call: one transaction, its look-ups and locks held to the end
_SHOWN = 5  # names quoted in a message


class UnknownFile(BookkeepingError):
    """An LFN the bookkeeping has not recorded; nothing was changed."""

    code = 84


class UnknownReplica(BookkeepingError):
    """A copy to remove or change that a file does not have; nothing was changed."""

    code = 85


class ReplicaConflict(BookkeepingError):
    """A copy to add that a file has already with another status or PFN, or a recall copy
    moved onto another copy of the file; nothing was changed."""

    code = 86


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

    @classmethod
    def of(cls, spec: ReplicaSpec) -> Copy:
        return cls(ReplicaKey(spec.site, spec.storage_class, spec.area), spec.status, spec.pfn)

    def spec(self) -> ReplicaSpec:
        return ReplicaSpec(
            self.key.site, self.key.storage_class, self.key.area, self.status, self.pfn
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


def check_known(lfns: Sequence[str], known: set[str] | dict[str, object]) -> None:
    """``UnknownFile`` naming the LFNs of ``lfns`` not in ``known``."""
    missing = [lfn for lfn in lfns if lfn not in known]
    if missing:
        raise UnknownFile(f"no such file in the bookkeeping: {_listed(missing)}", lfns=missing)


def _check_copy(spec: ReplicaSpec) -> None:
    for value in (spec.site, spec.storage_class, spec.area, spec.status, spec.pfn):
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
    """``add_replicas``: the same copy for every file (e.g. recalled to one disk area)."""

    replica: ReplicaSpec

    def check(self) -> None:
        _check_copy(self.replica)

    @property
    def site(self) -> str:
        return self.replica.site

    def apply(self, lfn: str, copies: Sequence[Copy]) -> list[Copy] | None:
        """``copies`` with the new one last, or ``None`` when the file has it already."""
        new = Copy.of(self.replica)
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
    """``change_replicas``: new status, PFN or (recall copies) area of the copy ``key``;
    ``None`` keeps a field."""

    key: ReplicaKey
    status: str | None = None
    pfn: str | None = None
    area: str | None = None

    def _changed(self, copy: Copy) -> Copy:
        return Copy(
            replace(copy.key, area=copy.key.area if self.area is None else self.area),
            copy.status if self.status is None else self.status,
            copy.pfn if self.pfn is None else self.pfn,
        )

    def check(self) -> None:
        _check_copy(ReplicaSpec(self.key.site, self.key.storage_class, self.key.area))
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
