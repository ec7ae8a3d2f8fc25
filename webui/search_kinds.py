"""Search across everything: files (LFN, GUID, production, run), event types (by number
or by words of their description and decay), processing passes, productions and runs.

Each kind answers ``(total, items of one page)``; the page links each item to where it
lives along the bookkeeping path. Only ``Bookkeeping`` interface calls, so both back-ends
answer alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from bookkeeping.interface import DatasetPath, Level, LevelValue
from webui.params import PATH_LEVELS
from webui.plain import plain
from webui.state import reader

KINDS: tuple[str, ...] = ("event_types", "processing_passes", "productions", "runs", "files")
LABELS = {
    "event_types": "Event types",
    "processing_passes": "Processing passes",
    "productions": "Productions",
    "runs": "Runs",
    "files": "Files",
}
PLACES_PER_ITEM = 20  # paths listed under one event type, pass or production


@dataclass(frozen=True)
class Found:
    total: int
    items: list[dict[str, Any]]
    exact: bool = True  # False: ``total`` is a lower bound (the files kind stops counting)


def words(query: str) -> list[str]:
    return [word for word in query.lower().split() if word]


def _matches(value: LevelValue, query_words: list[str]) -> bool:
    text = f"{value.value} {value.description or ''} {value.decay or ''}".lower()
    return all(word in text for word in query_words)


def places(where: DatasetPath, depth: int) -> list[dict[str, Any]]:
    """The paths (down to ``depth`` levels) holding files selected by ``where``, as
    query-string parameters, at most PLACES_PER_ITEM, walking the levels from the top."""
    found: list[dict[str, Any]] = []

    def walk(path: DatasetPath, level: int, query: dict[str, Any]) -> None:
        if len(found) >= PLACES_PER_ITEM:
            return
        if level == depth:
            found.append(query)
            return
        _name, level_enum, attribute, _label = PATH_LEVELS[level]
        fixed = getattr(where, attribute)
        values = [fixed] if fixed is not None else [
            v.value for v in reader().level_values(level_enum, path)
        ]  # fmt: skip
        for value in values:
            walk(_with(path, attribute, value), level + 1,
                 {**query, PATH_LEVELS[level][0]: value})  # fmt: skip

    walk(where, 0, {})
    return found


def _with(path: DatasetPath, attribute: str, value: Any) -> DatasetPath:
    values = {f.name: getattr(path, f.name) for f in fields(path)}
    values[attribute] = value
    return DatasetPath(**values)


def _page(items: list[Any], offset: int, limit: int) -> list[Any]:
    return items[offset : offset + limit]


def event_types(query: str, offset: int, limit: int) -> Found:
    query_words = words(query)
    matching = [v for v in reader().level_values(Level.EVENT_TYPE) if _matches(v, query_words)]
    items = []
    for value in _page(matching, offset, limit):
        item = plain(value)
        item["places"] = places(DatasetPath(event_type=int(value.value)), 5)
        items.append(item)
    return Found(len(matching), items)


def processing_passes(query: str, offset: int, limit: int) -> Found:
    query_words = words(query)
    every = reader().level_values(Level.PROCESSING_PASS)
    matching = [v for v in every if _matches(v, query_words)]
    items = []
    for value in _page(matching, offset, limit):
        item = plain(value)
        item["places"] = places(DatasetPath(processing_pass=str(value.value)), 4)
        items.append(item)
    return Found(len(matching), items)


def _number(query: str) -> int | None:
    text = query.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def productions(query: str, offset: int, limit: int) -> Found:
    number = _number(query)
    if number is None:
        return Found(0, [])
    matching = [v for v in reader().level_values(Level.PRODUCTION) if v.value == number]
    items = []
    for value in _page(matching, offset, limit):
        item = plain(value)
        datasets = places(DatasetPath(production=number), len(PATH_LEVELS))
        item["places"] = [{**place, "production": number} for place in datasets]
        items.append(item)
    return Found(len(matching), items)


def runs(query: str, offset: int, limit: int, count_limit: int) -> Found:
    number = _number(query)
    if number is None:
        return Found(0, [])
    files = reader().search(run=number, limit=count_limit + 1)
    if not files:
        return Found(0, [])
    item = {
        "run": number,
        "files": min(len(files), count_limit),
        "files_exact": len(files) <= count_limit,
        "events": sum(f.events for f in files[:count_limit]),
        "query": {"q": f"run:{number}"},
    }
    return Found(1, _page([item], offset, limit))


def files(criteria: list[dict[str, Any]], offset: int, limit: int, count_limit: int) -> Found:
    """Files meeting any of ``criteria``, ordered by LFN; counted up to ``count_limit``."""
    found: dict[int, Any] = {}
    for criterion in criteria:
        for record in reader().search(limit=count_limit + 1, **criterion):
            found[record.file_id] = record
    ordered = sorted(found.values(), key=lambda record: (record.lfn, record.file_id))
    exact = len(ordered) <= count_limit
    ordered = ordered[:count_limit]
    return Found(len(ordered), plain(_page(ordered, offset, limit)), exact)


Searcher = Callable[[str, int, int], Found]


def suggestions(query: str, limit: int) -> list[dict[str, Any]]:
    """What the search box offers as the user types: event types, processing passes,
    productions and LFNs starting the list, at most ``limit`` in all."""
    found: list[dict[str, Any]] = []
    for kind in ("event_types", "processing_passes", "productions"):
        for item in _values(kind, query, limit - len(found)):
            text = f"{item['value']} {item.get('description') or ''}".strip()
            found.append({"kind": kind, "value": str(item["value"]), "label": text})
    if len(found) < limit and len(query) >= 3:
        for record in reader().search(lfn=query, limit=limit - len(found)):
            found.append({"kind": "files", "value": record.lfn, "label": record.lfn})
    return found[:limit]


def _values(kind: str, query: str, limit: int) -> list[Any]:
    if limit <= 0:
        return []
    # Suggestions need no places (the search page walks the paths): the values only.
    level = {"event_types": Level.EVENT_TYPE, "processing_passes": Level.PROCESSING_PASS,
             "productions": Level.PRODUCTION}[kind]  # fmt: skip
    number = _number(query)
    if kind == "productions":
        if number is None:
            return []
        return [plain(v) for v in reader().level_values(level) if v.value == number][:limit]
    query_words = words(query)
    return [plain(v) for v in reader().level_values(level) if _matches(v, query_words)][:limit]
