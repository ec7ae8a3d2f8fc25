"""Reading and checking query-string parameters; a bad one is a 400 naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, get_args

from werkzeug.routing import IntegerConverter, Map

from bookkeeping.interface import STORAGE_FILTERS, DatasetPath, FileOrder, Level
from webui.errors import bad_parameter

MAX_TEXT = 1000
MAX_INT = 2**63 - 1

# The bookkeeping path, top to bottom: (query parameter, level, DatasetPath field, label).
PATH_LEVELS: tuple[tuple[str, Level, str, str], ...] = (
    ("configname", Level.CONFIG_NAME, "config_name", "Configuration"),
    ("configversion", Level.CONFIG_VERSION, "config_version", "Configuration version"),
    ("conditions", Level.CONDITIONS, "conditions", "Conditions"),
    ("processingpass", Level.PROCESSING_PASS, "processing_pass", "Processing pass"),
    ("eventtype", Level.EVENT_TYPE, "event_type", "Event type"),
    ("filetype", Level.FILE_TYPE, "file_type", "File type"),
)
PATH_PARAMETERS = tuple(name for name, *_ in PATH_LEVELS) + ("production",)
INTEGER_PARAMETERS = {"eventtype", "production"}
FILE_ORDERS: tuple[str, ...] = get_args(FileOrder)


def text(args: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = args.get(name)
    if value is None:
        return default
    if len(value) > MAX_TEXT:
        raise bad_parameter(name, f"longer than {MAX_TEXT} characters")
    if "\x00" in value:
        raise bad_parameter(name, "contains a NUL character")
    return value


def integer(
    args: Mapping[str, str],
    name: str,
    default: int | None = None,
    *,
    minimum: int = 0,
    maximum: int = MAX_INT,
) -> int | None:
    raw = text(args, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad_parameter(name, f"expected an integer, got {raw!r}", raw) from None
    if not minimum <= value <= maximum:
        raise bad_parameter(name, f"must be between {minimum} and {maximum}", value)
    return value


def choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = text(args, name, default) or default
    if value not in allowed:
        raise bad_parameter(name, f"expected one of {', '.join(allowed)}, got {value!r}", value)
    return value


@dataclass(frozen=True)
class PathSelection:
    """The levels chosen so far (a prefix of the bookkeeping path) and a production."""

    path: DatasetPath
    depth: int  # how many levels are set

    @property
    def complete(self) -> bool:
        return self.depth == len(PATH_LEVELS)

    def query(self) -> dict[str, str | int]:
        """The query-string parameters that select this path, its filters included."""
        items: dict[str, str | int] = {}
        for name, _level, attribute, _label in PATH_LEVELS[: self.depth]:
            items[name] = getattr(self.path, attribute)
        if self.path.production is not None:
            items["production"] = self.path.production
        items.update(filter_query(self.path))
        return items

    def without_filters(self) -> PathSelection:
        cleared = {field: None for field, *_ in RANGE_FILTERS}
        bare = replace(self.path, quality=None, site=None, storage=None, **cleared)
        return PathSelection(bare, self.depth)

    def with_value(self, value: str | int) -> PathSelection:
        _name, _level, attribute, _label = PATH_LEVELS[self.depth]
        level: dict[str, Any] = {attribute: value}
        return PathSelection(replace(self.path, **level), self.depth + 1)

    def prefix(self, depth: int) -> PathSelection:
        values = {attribute: None for _n, _l, attribute, _ in PATH_LEVELS[depth:]}
        bare = self.without_filters().path
        return PathSelection(replace(bare, production=None, **values), depth)


def dataset_path(args: Mapping[str, str]) -> PathSelection:
    """The path named by the query string; levels must be set from the top without gaps."""
    values: dict[str, Any] = {}
    depth = 0
    for index, (name, _level, attribute, label) in enumerate(PATH_LEVELS):
        raw = text(args, name)
        if raw is None:
            continue
        if index != depth:
            missing = PATH_LEVELS[depth][0]
            raise bad_parameter(name, f"{label} is set but {missing!r} (the level above) is not")
        if not raw.strip():
            raise bad_parameter(name, "must not be empty", raw)
        values[attribute] = integer(args, name) if name in INTEGER_PARAMETERS else raw
        depth += 1
    production = integer(args, "production")
    path = DatasetPath(production=production, **values, **dataset_filters(args))
    return PathSelection(path, depth)


# The dataset filters in the query string: (DatasetPath field, low parameter, high parameter,
# label, kind). Ranges are inclusive; either end may be left out.
RANGE_FILTERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("production_range", "production_min", "production_max", "Production", "integer"),
    ("run_range", "run_min", "run_max", "Run", "integer"),
    ("created_range", "created_from", "created_to", "Created (UTC)", "date-time"),
    ("events_range", "events_min", "events_max", "Events", "integer"),
    ("size_range", "size_min", "size_max", "Size (bytes)", "integer"),
)
FILTER_PARAMETERS = tuple(
    name for _field, low, high, *_ in RANGE_FILTERS for name in (low, high)
) + ("quality", "site", "storage")
STORAGE_LABELS = {"disk": "on disk", "tape": "only on tape", "recalled": "recalled"}
MAX_SITE = 64  # characters of a site name (the warehouse's column)
MAX_PRODUCTION = 2**31 - 1


def date_time(args: Mapping[str, str], name: str) -> datetime | None:
    raw = text(args, name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        problem = f"expected a date or date-time (ISO 8601), got {raw!r}"
        raise bad_parameter(name, problem, raw) from None
    if value.tzinfo is not None:
        raise bad_parameter(name, "give the time in UTC without an offset", raw)
    return value.replace(microsecond=0)


def dataset_filters(args: Mapping[str, str]) -> dict[str, Any]:
    """The DatasetPath filter fields named by the query string (only those set); an
    inverted range is a 400 naming both ends."""
    found: dict[str, Any] = {}
    for field, low_name, high_name, label, kind in RANGE_FILTERS:
        read = date_time if kind == "date-time" else integer
        low, high = read(args, low_name), read(args, high_name)
        if low is None and high is None:
            continue
        if low is not None and high is not None and low > high:  # type: ignore[operator]
            raise bad_parameter(high_name, f"{label} range is inverted: {low} is above {high}")
        if field == "production_range":  # the interface's production range has both ends
            low, high = low or 0, MAX_PRODUCTION if high is None else high
        found[field] = (low, high)
    quality = text(args, "quality")
    if quality is not None and quality.strip():
        found["quality"] = quality.strip()
    site = (text(args, "site") or "").strip()
    if len(site) > MAX_SITE:
        raise bad_parameter("site", f"a site name has at most {MAX_SITE} characters", site)
    if site:
        found["site"] = site
    storage = (text(args, "storage") or "").strip()
    if storage and storage not in STORAGE_FILTERS:
        allowed = ", ".join(STORAGE_FILTERS)
        raise bad_parameter("storage", f"expected one of {allowed}, got {storage!r}", storage)
    if storage:
        found["storage"] = storage
    return found


def filter_query(path: DatasetPath) -> dict[str, str | int]:
    """The query-string parameters of ``path``'s filters (inverse of ``dataset_filters``)."""
    items: dict[str, str | int] = {}
    for field, low_name, high_name, _label, _kind in RANGE_FILTERS:
        bounds = getattr(path, field)
        if bounds is None:
            continue
        for name, value in zip((low_name, high_name), bounds, strict=True):
            if value is None or (field == "production_range" and value in (0, MAX_PRODUCTION)):
                continue
            items[name] = value.isoformat(sep=" ") if isinstance(value, datetime) else value
    if path.quality is not None:
        items["quality"] = path.quality
    if path.site is not None:
        items["site"] = path.site
    if path.storage is not None:
        items["storage"] = path.storage
    return items


def active_filters(path: DatasetPath) -> list[dict[str, Any]]:
    """The filters set, as (label, text) for the page's summary."""
    shown = []
    for field, _low, _high, label, _kind in RANGE_FILTERS:
        bounds = getattr(path, field)
        if bounds is None:
            continue
        low, high = bounds
        if field == "production_range":
            low = None if low == 0 else low
            high = None if high == MAX_PRODUCTION else high
        text_low = "…" if low is None else str(low)
        text_high = "…" if high is None else str(high)
        shown.append({"label": label, "text": f"{text_low} – {text_high}"})
    if path.quality is not None:
        shown.append({"label": "Data quality", "text": path.quality})
    if path.site is not None:
        shown.append({"label": "Site", "text": path.site})
    if path.storage is not None:
        shown.append({"label": "Copies", "text": STORAGE_LABELS[path.storage]})
    return shown


class Int64Converter(IntegerConverter):
    """``<int:...>`` in routes: an id beyond 64 bits names nothing (404), instead of reaching
    the database, which cannot even compare it."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)
