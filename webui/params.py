"""Reading and checking query-string parameters; a bad one is a 400 naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import get_args

from bookkeeping.interface import DatasetPath, FileOrder, Level
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
        """The query-string parameters that select this path."""
        items: dict[str, str | int] = {}
        for name, _level, attribute, _label in PATH_LEVELS[: self.depth]:
            items[name] = getattr(self.path, attribute)
        if self.path.production is not None:
            items["production"] = self.path.production
        return items

    def with_value(self, value: str | int) -> PathSelection:
        _name, _level, attribute, _label = PATH_LEVELS[self.depth]
        return PathSelection(replace(self.path, **{attribute: value}), self.depth + 1)

    def prefix(self, depth: int) -> PathSelection:
        values = {attribute: None for _n, _l, attribute, _ in PATH_LEVELS[depth:]}
        return PathSelection(replace(self.path, production=None, **values), depth)


def dataset_path(args: Mapping[str, str]) -> PathSelection:
    """The path named by the query string; levels must be set from the top without gaps."""
    values: dict[str, str | int] = {}
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
    return PathSelection(DatasetPath(production=production, **values), depth)  # type: ignore[arg-type]
