"""A search's filters, checked, and their canonical form whose MD5 is the query id.

The canonical form is the JSON object of the filters that are set, keys in their camelCase
GraphQL names sorted, values typed (numbers as numbers, dates as ISO strings at whole
seconds), no spaces. Two searches that differ only in the order their filters were written
(or in filters left null) have the same canonical form, hence the same query id. The form
carries a version so that a change of meaning never reuses an old id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from bookkeeping.aggregation.errors import InvalidFilter

CANONICAL_VERSION = 1
Storage = Literal["disk", "tape"]
STORAGES: tuple[Storage, ...] = ("disk", "tape")
# Productions are stored as 32-bit integers; an open end of a range stops there.
LARGEST_PRODUCTION = 2**31 - 1
# Every number is stored in 64 bits; a larger bound names nothing and no database compares it.
LARGEST_INTEGER = 2**63 - 1
MAX_STRING = 256

# (python name, camelCase name, type) of every filter, in the order the docs list them.
FILTER_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("config_name", "configName", str),
    ("config_version", "configVersion", str),
    ("conditions", "conditions", str),
    ("processing_pass", "processingPass", str),
    ("event_type", "eventType", int),
    ("file_type", "fileType", str),
    ("production_min", "productionMin", int),
    ("production_max", "productionMax", int),
    ("run_min", "runMin", int),
    ("run_max", "runMax", int),
    ("date_from", "dateFrom", datetime),
    ("date_to", "dateTo", datetime),
    ("dq_flag", "dqFlag", str),
    ("site", "site", str),
    ("se", "se", str),
    ("storage", "storage", str),
    ("events_min", "eventsMin", int),
    ("events_max", "eventsMax", int),
    ("size_min", "sizeMin", int),
    ("size_max", "sizeMax", int),
)
CAMEL = {python: camel for python, camel, _ in FILTER_FIELDS}
PYTHON = {camel: python for python, camel, _ in FILTER_FIELDS}
TYPES = {python: kind for python, _, kind in FILTER_FIELDS}
RANGES = (
    ("production_min", "production_max"),
    ("run_min", "run_max"),
    ("date_from", "date_to"),
    ("events_min", "events_max"),
    ("size_min", "size_max"),
)


@dataclass(frozen=True)
class SearchFilter:
    """Every field ``None`` means "any"; ranges are inclusive at both ends."""

    config_name: str | None = None
    config_version: str | None = None
    conditions: str | None = None
    processing_pass: str | None = None
    event_type: int | None = None
    file_type: str | None = None
    production_min: int | None = None
    production_max: int | None = None
    run_min: int | None = None
    run_max: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    dq_flag: str | None = None
    site: str | None = None
    se: str | None = None
    storage: Storage | None = None
    events_min: int | None = None
    events_max: int | None = None
    size_min: int | None = None
    size_max: int | None = None

    def __post_init__(self) -> None:
        check(self)

    def set_fields(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    @property
    def needs_replicas(self) -> bool:
        return self.site is not None or self.se is not None or self.storage is not None


def check(search: SearchFilter) -> None:
    """``InvalidFilter`` naming the first wrong field (camelCase, as the client wrote it)."""
    for name, value in search.set_fields().items():
        kind = TYPES[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidFilter(f"filter {CAMEL[name]} must be an integer, not {value!r}")
        if kind is int and value < 0:
            raise InvalidFilter(f"filter {CAMEL[name]} must not be negative ({value})")
        if kind is int and value > LARGEST_INTEGER:
            raise InvalidFilter(f"filter {CAMEL[name]} is above {LARGEST_INTEGER} (64 bits)")
        if kind is str and not isinstance(value, str):
            raise InvalidFilter(f"filter {CAMEL[name]} must be a string, not {value!r}")
        if kind is str and (not value or len(value) > MAX_STRING or "\x00" in value):
            raise InvalidFilter(
                f"filter {CAMEL[name]} must be a non-empty string of at most {MAX_STRING} "
                "characters"
            )
        if kind is datetime and not isinstance(value, datetime):
            raise InvalidFilter(f"filter {CAMEL[name]} must be a date-time, not {value!r}")
    if search.storage is not None and search.storage not in STORAGES:
        raise InvalidFilter(f"filter storage must be one of {', '.join(STORAGES)}")
    for low, high in RANGES:
        first, last = getattr(search, low), getattr(search, high)
        if first is not None and last is not None and first > last:
            raise InvalidFilter(
                f"inverted range: {CAMEL[low]} {_text(first)} is after {CAMEL[high]} {_text(last)}"
            )
    for bound in ("production_min", "production_max"):
        value = getattr(search, bound)
        if value is not None and value > LARGEST_PRODUCTION:
            raise InvalidFilter(f"filter {CAMEL[bound]} is above {LARGEST_PRODUCTION}")


def _text(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _normal_date(value: datetime) -> datetime:
    # The bookkeeping keeps naive UTC at whole seconds; an aware date is converted to it.
    if value.tzinfo is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def from_mapping(values: Mapping[str, Any]) -> SearchFilter:
    """A filter from camelCase names (GraphQL input, a cached hash, a web form's JSON);
    an unknown name is ``InvalidFilter`` naming it."""
    unknown = sorted(set(values) - set(PYTHON))
    if unknown:
        raise InvalidFilter(
            f"unknown filter {unknown[0]!r}; known filters: {', '.join(sorted(PYTHON))}"
        )
    arguments: dict[str, Any] = {}
    for camel, value in values.items():
        if value is None:
            continue
        name = PYTHON[camel]
        if TYPES[name] is datetime and isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise InvalidFilter(f"filter {camel} is not an ISO date-time: {value!r}") from None
        if TYPES[name] is datetime and isinstance(value, datetime):
            value = _normal_date(value)
        arguments[name] = value
    return SearchFilter(**arguments)


def to_mapping(search: SearchFilter) -> dict[str, Any]:
    """camelCase names of the set filters, JSON-typed values (dates as ISO strings)."""
    out: dict[str, Any] = {}
    for name, value in search.set_fields().items():
        out[CAMEL[name]] = value.isoformat() if isinstance(value, datetime) else value
    return out


def canonical(search: SearchFilter) -> str:
    body = {"v": CANONICAL_VERSION, "filter": to_mapping(search)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def query_id(search: SearchFilter) -> str:
    """MD5 of the canonical form: 32 lowercase hex digits. Not a secret (anyone can compute
    it); what a user may fetch by it is decided elsewhere (deliveries belong to a user)."""
    return hashlib.md5(canonical(search).encode(), usedforsecurity=False).hexdigest()


def parse_canonical(text: str) -> SearchFilter:
    body = json.loads(text)
    return from_mapping(body["filter"])
