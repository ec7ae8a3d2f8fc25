"""Small helpers over a catalogue session: read a query's rows, read the ids in chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bookkeeping.amga_adapter.bookkeeping.layout import literal_list
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession

IN_CHUNK = 500  # values per "in (...)" list


def rows(session: ReadSession, items: Sequence[str], condition: str = "") -> list[tuple]:
    """Every row of ``selectattr items condition`` (for small answers)."""
    stream = session.selectattr(list(items), condition)
    try:
        return [tuple(row) for row in stream]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def chunked_rows(
    session: ReadSession,
    items: Sequence[str],
    reference: str,
    values: Sequence[int] | Sequence[str],
    condition: str = "",
) -> Iterator[tuple]:
    """Rows whose ``reference`` is one of ``values``, one query per ``IN_CHUNK`` values."""
    extra = f" and ({condition})" if condition else ""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start : start + IN_CHUNK])
        yield from rows(session, items, f"{reference} in {literal_list(chunk)}{extra}")


def scalar(session: ReadSession, item: str, condition: str = "") -> Any:
    found = rows(session, [item], condition)
    return found[0][0] if found else None
