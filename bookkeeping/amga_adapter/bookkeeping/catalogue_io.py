"""Small helpers over a catalogue session: read a query's rows, read the ids in chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bookkeeping.amga_adapter.bookkeeping.layout import literal_list
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute
from bookkeeping.chunking import chunked

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
    values: Sequence[int | str],
    condition: str = "",
) -> Iterator[tuple]:
    """Rows whose ``reference`` is one of ``values``, one query per ``IN_CHUNK`` values."""
    extra = f" and ({condition})" if condition else ""
    for chunk in chunked(values, IN_CHUNK):
        yield from rows(session, items, f"{reference} in {literal_list(chunk)}{extra}")


def scalar(session: ReadSession, item: str, condition: str = "") -> Any:
    found = rows(session, [item], condition)
    return found[0][0] if found else None


def site_union(
    session: ReadSession, sites: Sequence[str], items: Sequence[str], condition: str
) -> list[tuple[Any, ...]]:
    """``selectattr_union`` over site directories of copies, each row led by its directory.
    A directory that a writer is creating right now may still lack its attributes (the
    directory, then its attributes, then copies): it holds no copies yet and is left out.
    The engine names that directory; over the AMGA wire the error does not, and each site
    is then asked alone."""
    remaining = list(sites)
    while remaining:
        try:
            stream = session.selectattr_union(
                remaining, list(items), condition, with_directory=True
            )
            return [tuple(row) for row in stream]
        except NoSuchAttribute as exc:
            incomplete = exc.details.get("path")
            if incomplete not in remaining:
                return _site_by_site(session, remaining, items, condition)
            remaining.remove(incomplete)
    return []


def _site_by_site(
    session: ReadSession, sites: Sequence[str], items: Sequence[str], condition: str
) -> list[tuple[Any, ...]]:
    found: list[tuple[object, ...]] = []
    for site in sites:
        try:
            stream = session.selectattr_union([site], list(items), condition, with_directory=True)
            found.extend(tuple(row) for row in stream)
        except NoSuchAttribute:
            continue  # being created: no copies yet
    return found
