"""The one bookkeeping interface, served by the warehouse and by the catalogue.

Everything above this module (web UI, CLI, benchmarks, views) is written against
``Bookkeeping`` (reading) and ``BookkeepingWriter`` (recording job reports). Results are
frozen dataclasses and tuples so that the answers of two implementations compare equal
with ``==``; every sequence has a documented, deterministic order.

Conventions shared by both implementations (see docs/bookkeeping.md for the storage layout):

- The bookkeeping path is ``/ConfigName/ConfigVersion/Conditions/ProcessingPass/EventType/
  FileType``; a ``DatasetPath`` names any prefix of it (unset levels match everything) plus an
  optional production or inclusive production range.
- Strings sort by code point (binary collation), numbers numerically, ``None`` last; ties are
  broken by ``file_id`` so paging never repeats or skips a file.
- Sizes are bytes; times are naive UTC ``datetime`` with whole seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from bookkeeping.dataset_filters import (
    AVAILABLE,
    FILE_FILTERS,
    STORAGE_FILTERS,
    SiteShare,
    StorageFilter,
    StorageShare,
    meets_copy_filters,
    meets_file_filters,
    storage_kinds,
)
from bookkeeping.listing_query import (
    LISTING_ATTRIBUTES,
    Comparison,
    ComparisonOperator,
    Condition,
    ListedFile,
    ListingQuery,
    Logical,
    Not,
)
from bookkeeping.writer.changes import MarkedCopies, ReplicaKey, ThenHook
from bookkeeping.writer.lifecycle import LIFE_CYCLE_STATES, LifeCycleState
from bookkeeping.writer.model import (
    EventTypeSpec,
    JobReport,
    OutputFileSpec,
    QualitySpec,
    RecordResult,
    RecordStatus,
    ReplicaSpec,
)

__all__ = [
    "AVAILABLE",
    "DATA_QUALITY_GROUP",
    "STORAGE_FILTERS",
    "SiteShare",
    "StorageFilter",
    "StorageShare",
    "meets_copy_filters",
    "storage_kinds",
    "FILE_FILTERS",
    "Bookkeeping",
    "BookkeepingWriter",
    "Comparison",
    "ComparisonOperator",
    "Condition",
    "DatasetPath",
    "EventTypeSpec",
    "FileOrder",
    "FileRecord",
    "FilesPage",
    "LIFE_CYCLE_STATES",
    "LISTING_ATTRIBUTES",
    "LifeCycleState",
    "JobRecord",
    "JobReport",
    "Level",
    "LevelValue",
    "ListedFile",
    "ListingQuery",
    "meets_file_filters",
    "LfnMetadata",
    "Logical",
    "Not",
    "OutputFileSpec",
    "Parameter",
    "QualityFlag",
    "QualitySpec",
    "RecordResult",
    "RecordStatus",
    "Relative",
    "Replica",
    "ReplicaKey",
    "ReplicaSpec",
    "StorageClass",
]

# The quality group whose flag is shown as ``FileRecord.quality``.
DATA_QUALITY_GROUP = "DQ"

StorageClass = Literal["tape", "disk", "recall"]
FileOrder = Literal["lfn", "size", "events", "run", "production", "creation", "file_id"]


class Level(enum.Enum):
    """The levels of the bookkeeping path, top to bottom, plus the production."""

    CONFIG_NAME = "configname"
    CONFIG_VERSION = "configversion"
    CONDITIONS = "conditions"
    PROCESSING_PASS = "processingpass"
    EVENT_TYPE = "eventtype"
    FILE_TYPE = "filetype"
    PRODUCTION = "production"


@dataclass(frozen=True)
class DatasetPath:
    """A selection along the bookkeeping path; ``None`` matches every value of a level."""

    config_name: str | None = None
    config_version: str | None = None
    conditions: str | None = None
    processing_pass: str | None = None
    event_type: int | None = None
    file_type: str | None = None
    production: int | None = None
    # Inclusive (first, last); combined with ``production`` by AND when both are set.
    production_range: tuple[int, int] | None = None
    # Filters on the files of the selected datasets (the dataset page's filters). Ranges are
    # inclusive, ``None`` at an end leaves it open; every filter set must hold (AND). A file
    # without a run never meets a run range; ``quality`` is the flag of the
    # DATA_QUALITY_GROUP group (a file never flagged never meets it).
    run_range: tuple[int | None, int | None] | None = None
    created_range: tuple[datetime | None, datetime | None] | None = None
    events_range: tuple[int | None, int | None] | None = None
    size_range: tuple[int | None, int | None] | None = None
    quality: str | None = None
    # Where the files' available copies are (``meets_copy_filters``): ``site`` keeps the
    # files with an available copy at that site; ``storage`` those with an available disk
    # copy ("disk"), an available recall copy ("recalled"), or an available tape copy and
    # neither ("tape": only on tape). Each is judged over all of a file's copies.
    site: str | None = None
    storage: StorageFilter | None = None

    @property
    def has_file_filters(self) -> bool:
        """Whether a filter beyond the path's levels and production is set (then totals
        are counted over the files, not read from per-dataset summaries)."""
        return any(getattr(self, name) is not None for name in FILE_FILTERS) or (
            self.has_copy_filters
        )

    @property
    def has_copy_filters(self) -> bool:
        return self.site is not None or self.storage is not None


@dataclass(frozen=True)
class LevelValue:
    """One value of a level under a path, with the totals of the files below it."""

    value: str | int  # int for EVENT_TYPE and PRODUCTION, str otherwise
    files: int
    events: int
    bytes: int
    description: str | None = None  # the event type's description; None for other levels
    decay: str | None = None  # the event type's decay (None for other levels or when empty)


@dataclass(frozen=True)
class FileRecord:
    file_id: int
    lfn: str
    guid: str
    size: int
    events: int
    checksum: str  # adler32, 8 lowercase hex digits
    file_type: str
    event_type: int
    job_id: int
    production: int
    run: int | None
    creation_time: datetime
    visible: bool
    quality: str | None  # flag of the DATA_QUALITY_GROUP group, None when never flagged


@dataclass(frozen=True)
class FilesPage:
    """One page of a dataset's files (ordered as asked) and the totals of the whole dataset."""

    files: tuple[FileRecord, ...]
    total_files: int
    total_events: int
    total_bytes: int
    offset: int
    limit: int | None


@dataclass(frozen=True, order=True)
class Parameter:
    name: str
    value: str


@dataclass(frozen=True)
class JobRecord:
    job_id: int
    config_name: str
    config_version: str
    job_date: datetime
    production: int
    run: int | None
    conditions: str
    processing_pass: str
    dirac_job_id: int


@dataclass(frozen=True)
class LfnMetadata:
    """``found`` ordered by LFN; ``missing`` the unknown LFNs asked for, sorted, no repeats."""

    found: tuple[FileRecord, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, order=True)
class Relative:
    """An ancestor or descendant at its smallest distance ``depth`` (1 = direct)."""

    depth: int
    file_id: int
    lfn: str
    file_type: str


@dataclass(frozen=True, order=True)
class Replica:
    """A copy of a file: ``tape`` and ``disk`` copies at a site; ``recall`` copies are the
    disk areas a file has been recalled to (``area`` like ``"f0a 14"``, empty otherwise)."""

    site: str
    storage_class: StorageClass
    area: str
    status: str  # "available", "lost" or "bad" (the SE holds other bytes)
    pfn: str
    se: str = ""  # the storage element holding the bytes (empty: none recorded)
    path: str = ""  # the file's path on that storage element


@dataclass(frozen=True, order=True)
class QualityFlag:
    group: str
    flag: str


# --- the kls-style listing (``bk ls``) --------------------------------------------------

# --- the protocols ----------------------------------------------------------------------


@runtime_checkable
class Bookkeeping(Protocol):
    """Reading the bookkeeping. Unknown ids/LFNs give ``None`` or empty results, not errors."""

    def level_values(self, level: Level, path: DatasetPath | None = None) -> list[LevelValue]:
        """Distinct values of ``level`` among the files selected by ``path``, ordered by value,
        with file/event/byte totals (and the description for event types)."""
        ...

    def files(
        self,
        path: DatasetPath,
        *,
        offset: int = 0,
        limit: int | None = None,
        order_by: FileOrder = "lfn",
        descending: bool = False,
    ) -> FilesPage:
        """A page of the dataset's files with the totals of the whole dataset; a negative
        offset or limit raises ``ValidationError``."""
        ...

    def iter_files(
        self, path: DatasetPath, *, order_by: FileOrder = "lfn", descending: bool = False
    ) -> Iterator[FileRecord]:
        """Every file of the dataset, streamed (for downloads of large lists)."""
        ...

    def file_by_id(self, file_id: int) -> FileRecord | None: ...

    def file_by_lfn(self, lfn: str) -> FileRecord | None: ...

    def files_metadata(self, lfns: Sequence[str]) -> LfnMetadata: ...

    def file_parameter(self, file_id: int, name: str) -> str | None:
        """One parameter of a file (e.g. ``GUID``), as stored (a string)."""
        ...

    def file_parameters(self, file_id: int) -> tuple[Parameter, ...]:
        """All parameters of a file, ordered by name."""
        ...

    def parameter_where(self, name: str, where_name: str, where_value: str) -> tuple[str, ...]:
        """Parameter ``name`` of the files whose parameter ``where_name`` equals
        ``where_value``, e.g. ``parameter_where("Size", "GUID", g)``; sorted, one per file."""
        ...

    def job(self, job_id: int) -> JobRecord | None: ...

    def job_parameters(self, job_id: int) -> tuple[Parameter, ...]:
        """All parameters of a job, ordered by name."""
        ...

    def ancestors(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        """Files the file was made from, up to ``depth`` steps; ordered by (depth, lfn)."""
        ...

    def descendants(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        """Files made from the file, up to ``depth`` steps; ordered by (depth, lfn)."""
        ...

    def replicas(self, file_id: int) -> tuple[Replica, ...]:
        """Ordered by (site, storage_class, area)."""
        ...

    def storage_share(self, path: DatasetPath) -> StorageShare:
        """Files and bytes of ``path`` (its filters applied) on disk, only on tape and
        recalled, and per site with an available copy (sites sorted)."""
        ...

    def quality_counts(self, path: DatasetPath, flags: Sequence[str]) -> dict[str, int]:
        """For each of ``flags``, the files ``path`` keeps with ``quality`` set to it (its
        other filters applied): every flag asked is a key (0 when none). One grouped
        count, not one count per flag, where the implementation can."""
        ...

    def shared_reads(self) -> AbstractContextManager[None]:
        """Within the block, this thread's calls may share what they read of the dataset
        structure (the catalogue's roottree entries, read once for one page's calls instead
        of once per call); nothing is shared outside it."""
        ...

    def replicas_of(self, file_ids: Sequence[int]) -> dict[int, tuple[Replica, ...]]:
        """``replicas`` of many files at once: every id asked maps to its copies (``()`` for
        a file without any, or unknown); a page of files costs a statement or two, not one
        call per file."""
        ...

    def quality_flags(self, file_id: int) -> tuple[QualityFlag, ...]:
        """Ordered by group."""
        ...

    def search(
        self,
        *,
        lfn: str | None = None,
        guid: str | None = None,
        production: int | None = None,
        run: int | None = None,
        limit: int = 100,
    ) -> tuple[FileRecord, ...]:
        """Files matching every given criterion (``lfn`` is a case-sensitive substring,
        wildcards are literal), ordered by LFN, at most ``limit``. With no criterion the
        result is empty."""
        ...

    def life_cycle(self, lfns: Sequence[str]) -> dict[str, LifeCycleState]:
        """The life-cycle state of each known LFN of ``lfns`` (unknown ones are left out)."""
        ...

    def files_in_state(
        self, state: LifeCycleState, *, after: int = 0, limit: int = 1000
    ) -> tuple[tuple[int, str], ...]:
        """``(file_id, lfn)`` of up to ``limit`` files in ``state`` whose id is above
        ``after``, ordered by id (the archiver pages through the closed files with it)."""
        ...

    def count_listing(self, query: ListingQuery) -> int: ...

    def iter_listing(self, query: ListingQuery) -> Iterator[ListedFile]:
        """The files of a kls-style listing, ordered by LFN, streamed."""
        ...


@runtime_checkable
class BookkeepingWriter(Protocol):
    """Recording job reports, and later changes to the files they recorded. Each report is
    written whole or not at all; a report whose identity (``JobReport.identity``) is already
    recorded is not written again.

    The changes (``bookkeeping/writer/changes.py``) take any number of LFNs and are atomic:
    every file changes or none does. An unknown LFN raises ``UnknownFile``, a malformed
    argument ``ValidationError``; each returns how many files changed."""

    def record(self, report: JobReport) -> RecordResult: ...

    def record_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        """Bulk path: results in input order; a failing report does not stop the others."""
        ...

    def set_visibility(self, lfns: Sequence[str], visible: bool) -> int:
        """Make the files visible or invisible (LHCb hides files rather than deleting
        them); files already so are left alone."""
        ...

    def add_replicas(self, lfns: Sequence[str], replica: ReplicaSpec) -> int:
        """Record the copy ``replica`` of every file (after it last among the file's copies);
        a file with that very copy is left alone, one with that copy in another status or
        PFN raises ``ReplicaConflict``."""
        ...

    def add_replicas_at(self, paths: Mapping[str, str], replica: ReplicaSpec) -> int:
        """``add_replicas`` of the copy ``replica`` on its storage element, each file (the
        keys of ``paths``) at its own path there (the values): a batch of puts recorded in
        one change."""
        ...

    def remove_replicas(self, lfns: Sequence[str], replica: ReplicaKey) -> int:
        """Forget the copy ``replica`` of every file; a file without it raises
        ``UnknownReplica``."""
        ...

    def change_replicas(
        self,
        lfns: Sequence[str],
        replica: ReplicaKey,
        *,
        status: str | None = None,
        pfn: str | None = None,
        area: str | None = None,
        se: str | None = None,
        path: str | None = None,
    ) -> int:
        """Set the status, PFN, (recall copies) area, or storage element and path (both
        together) of the copy ``replica`` of every file (``None`` keeps a field); a file
        without it raises ``UnknownReplica``."""
        ...

    def mark_copies_at(
        self, se: str, copies: Mapping[str, str], status: str, *, then: ThenHook | None = None
    ) -> MarkedCopies:
        """Set to ``status`` the copies recorded on storage element ``se`` at the paths of
        ``copies`` (path there -> LFN of the file): what an SE reports lost or corrupted, in
        one look-up and one write for all of them. A path with no copy of that file there
        is left out of the answer, not an error (the SE knows paths, not the catalogue's
        history); a copy in ``status`` already is found, not changed. ``then(connection,
        marked)``, when given, runs in the same transaction before it commits."""
        ...

    def set_life_cycle(self, lfns: Sequence[str], state: LifeCycleState) -> int:
        """Move every file one step along ``open -> closed -> archived`` (see
        ``bookkeeping/writer/lifecycle.py``); a file in ``state`` already is left alone, any
        other step raises ``LifeCycleError``."""
        ...
