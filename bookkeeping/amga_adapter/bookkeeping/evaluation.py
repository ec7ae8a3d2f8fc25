"""What the catalogue's query language cannot say, computed in Python with SQL's meaning:
ordering with missing values last, and listing conditions under three-valued logic (a
comparison with a missing run or quality flag is unknown; so is its negation).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bookkeeping.amga_adapter.bookkeeping.records import Row
from bookkeeping.interface import (
    Comparison,
    Condition,
    FileOrder,
    FileRecord,
    FilesPage,
    Logical,
    Not,
)

_ORDER_FIELDS: dict[str, str] = {
    "lfn": "lfn",
    "size": "size",
    "events": "events",
    "run": "run",
    "production": "production",
    "creation": "creation_time",
    "file_id": "file_id",
}
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def ordered(
    records: Iterable[FileRecord], order_by: FileOrder, descending: bool
) -> list[FileRecord]:
    """The interface's order: by the key (code-point order for strings), missing values
    last in both directions, ties by file id ascending."""
    field = _ORDER_FIELDS[order_by]
    by_id = sorted(records, key=lambda record: record.file_id)
    present = [r for r in by_id if getattr(r, field) is not None]
    missing = [r for r in by_id if getattr(r, field) is None]
    present.sort(key=lambda record: getattr(record, field), reverse=descending)  # stable
    return present + missing


def truth(condition: Condition, row: Row) -> bool | None:
    """True, False or None (unknown), as SQL evaluates the condition."""
    if isinstance(condition, Logical):
        values = [truth(item, row) for item in condition.items]
        if condition.op == "and":
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    if isinstance(condition, Not):
        value = truth(condition.item, row)
        return None if value is None else not value
    return _comparison(condition, row)


def _comparison(comparison: Comparison, row: Row) -> bool | None:
    value = row.attribute(comparison.attribute)
    if value is None:
        return None
    if comparison.op == "in":
        return value in comparison.values
    return _OPERATORS[comparison.op](value, comparison.values[0])


def page(records: Sequence[FileRecord], offset: int, limit: int | None) -> FilesPage:
    """The page ``[offset, offset + limit)`` of ``records`` with the totals of all."""
    end = None if limit is None else offset + limit
    return FilesPage(
        files=tuple(records[offset:end]),
        total_files=len(records),
        total_events=sum(record.events for record in records),
        total_bytes=sum(record.size for record in records),
        offset=offset,
        limit=limit,
    )


def by_lfn(record: FileRecord) -> tuple[str, int]:
    return record.lfn, record.file_id


def canonical_int(text: str) -> bool:
    """Whether ``text`` is how an integer is written (what ``str(int)`` gives)."""
    try:
        return str(int(text)) == text
    except ValueError:
        return False
