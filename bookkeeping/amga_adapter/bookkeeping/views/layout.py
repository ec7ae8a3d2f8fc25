"""The view directories: ``/roottree`` (one entry per combination of the attributes
physicists select by, seed 001 Appendix A) and one ``/JobFileInfo<N>`` shard per
combination holding its files.

The roottree's summary (files, events, bytes, production range) is kept without a hot row:
each writer adds to rows of its own in ``/roottreeDeltas`` (one per combination it wrote),
and readers fold them with the roottree entry's own figures (what the last rebuild
counted). Shard numbers are claimed in ``/roottreeShards`` (entry name = number), so two
writers can never take the same one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass, fields

ROOTTREE = "/roottree"
DELTAS = "/roottreeDeltas"
SHARD_CLAIMS = "/roottreeShards"
SHARD_PREFIX = "/JobFileInfo"

# The combination: Appendix A's selection attributes, plus the two levels of the
# bookkeeping path the seed's roottree had folded into others (configuration version and
# processing pass). Program1-2 and InputFile1-2 describe the history further back.
KEY_ATTRIBUTES = {
    "CONFIG": "varchar(128)",
    "CONFIGVERSION": "varchar(128)",
    "DBVERSION": "varchar(255)",
    "PROCESSINGPASS": "varchar(255)",
    "EVENTTYPE": "bigint",
    "FILETYPE": "varchar(255)",
    "LOCATION": "varchar(64)",
    "Program0": "varchar(255)",
    "InputFile0": "varchar(255)",
    "Program1": "varchar(255)",
    "InputFile1": "varchar(255)",
    "Program2": "varchar(255)",
    "InputFile2": "varchar(255)",
}
SUMMARY_ATTRIBUTES = {
    "FILES": "bigint",
    "NBEVENTS": "bigint",
    "BYTES": "bigint",
    "MINPRODUCTION": "bigint",
    "MAXPRODUCTION": "bigint",
}
ROOTTREE_ATTRIBUTES = {
    **KEY_ATTRIBUTES,
    "EVENTDESCRIPTION": "varchar(255)",
    **SUMMARY_ATTRIBUTES,
    "SHARD": "varchar(64)",
}
DELTA_ATTRIBUTES = {"COMBINATION": "varchar(64)", "WRITER": "varchar(64)", **SUMMARY_ATTRIBUTES}
CLAIM_ATTRIBUTES = {"COMBINATION": "varchar(64)"}
SHARD_ATTRIBUTES = {
    # Appendix A
    "FILE_ID": "bigint",
    "NBEVT": "bigint",
    "FSIZ": "bigint",
    "JOBID": "bigint",
    "FILNAM": "varchar(255)",
    "LAB": "varchar(128)",
    "WRITDAT": "timestamp",
    "PRODUCTION": "bigint",
    "JOB": "varchar(32)",
    "STEP": "varchar(8)",
    "EXTENSION": "varchar(32)",
    "REPLICA": "varchar(255)",
    # what a file record needs besides
    "GUID": "varchar(64)",
    "CHECKSUM": "varchar(16)",
    "RUN": "bigint",
    "RUNMISSING": "smallint",  # 1 without a run: sorts missing runs last in both directions
    "VISIBLE": "smallint",
    "QUALITY": "varchar(255)",
    # The file's available copies folded (derive.copy_fold): the storage share reads them
    # here instead of probing every site directory per file (issue 23). NULL: not folded
    # yet (a shard older than them); the share reads those files' copies.
    "COPYKINDS": "smallint",
    "COPYSITES": "varchar(255)",
}
COPY_FOLD_ATTRIBUTES = ("COPYKINDS", "COPYSITES")

# The ordered indexes of every shard: one per order of the view builder
# (``builder.order_clause``: the order attribute, then FILE_ID; the run order puts
# RUNMISSING first). A descending page walks the same index backwards (PostgreSQL and SQLite
# then sort only the ties of the order attribute by FILE_ID). The production index also
# serves the production filter pushed into each shard's branch.
SHARD_INDEXES: tuple[tuple[str, ...], ...] = (
    ("FILNAM", "FILE_ID"),
    ("FSIZ", "FILE_ID"),
    ("NBEVT", "FILE_ID"),
    ("RUNMISSING", "RUN", "FILE_ID"),
    ("PRODUCTION", "FILE_ID"),
    ("WRITDAT", "FILE_ID"),
    ("FILE_ID",),
)


@dataclass(frozen=True, order=True)
class Combination:
    config: str
    config_version: str
    conditions: str
    processing_pass: str
    event_type: int
    file_type: str
    location: str
    program0: str = ""
    input_file0: str = ""
    program1: str = ""
    input_file1: str = ""
    program2: str = ""
    input_file2: str = ""

    @property
    def key(self) -> str:
        """A stable entry name for the combination (same in every process)."""
        text = json.dumps(astuple(self), ensure_ascii=False)
        return "c" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def attributes(self) -> dict[str, object]:
        return dict(zip(KEY_ATTRIBUTES, astuple(self), strict=True))

    @classmethod
    def from_values(cls, values: tuple) -> Combination:
        names = [f.name for f in fields(cls)]
        return cls(**dict(zip(names, values, strict=True)))


def shard_path(number: int) -> str:
    return f"{SHARD_PREFIX}{number}"


@dataclass(frozen=True)
class Summary:
    files: int = 0
    events: int = 0
    bytes: int = 0
    min_production: int | None = None
    max_production: int | None = None

    def plus(self, other: Summary) -> Summary:
        return Summary(
            self.files + other.files,
            self.events + other.events,
            self.bytes + other.bytes,
            _least(self.min_production, other.min_production),
            _greatest(self.max_production, other.max_production),
        )

    def removed(self) -> Summary:
        """What taking these files away adds: negative counts, no production range (a
        range cannot shrink by a delta; see docs/views.md)."""
        return Summary(-self.files, -self.events, -self.bytes)

    def attributes(self) -> dict[str, object]:
        return dict(zip(SUMMARY_ATTRIBUTES, astuple(self), strict=True))


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else (a if b is None else min(a, b))


def _greatest(a: int | None, b: int | None) -> int | None:
    return b if a is None else (a if b is None else max(a, b))
