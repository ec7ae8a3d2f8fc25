"""The query of ``Bookkeeping.iter_listing`` / ``count_listing`` (``bk ls``) and its lines:
a file type and a condition tree over ``LISTING_ATTRIBUTES`` (re-exported by the interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Attributes a listing condition may use, with their value type. Names are lower case.
LISTING_ATTRIBUTES: dict[str, type] = {
    "production": int,
    "run": int,
    "eventtype": int,
    "events": int,
    "size": int,
    "fileid": int,
    "jobid": int,
    "config": str,
    "configversion": str,
    "conditions": str,
    "processingpass": str,
    "lfn": str,
    "guid": str,
    "quality": str,
}

ComparisonOperator = Literal["=", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Comparison:
    """``attribute op value`` or, with ``op == "in"``, ``attribute in values``."""

    attribute: str  # a key of LISTING_ATTRIBUTES
    op: ComparisonOperator | Literal["in"]
    values: tuple[int | str, ...]  # one value except for "in"


@dataclass(frozen=True)
class Logical:
    op: Literal["and", "or"]
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | Logical | Not


@dataclass(frozen=True)
class ListingQuery:
    file_type: str
    where: Condition | None = None
    disk_only: bool = False  # only files with a disk or recalled copy


@dataclass(frozen=True)
class ListedFile:
    """One line of ``bk ls``: available copies only; ``recalled`` sorted."""

    lfn: str
    size: int
    on_disk: bool
    on_tape: bool
    recalled: tuple[str, ...]
