"""The GraphQL schema (strawberry): identification queries, the search, deliveries.

Resolvers take everything from ``info.context`` (an ``AggregationContext``: the user, the
bookkeeping reader, the search service, the delivery store), so the schema runs under the
web app and under tests alike. Our errors reach the client as GraphQL errors carrying their
message and ``extensions.code``; any other exception is masked ("Unexpected error.").
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NewType

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from bookkeeping.aggregation import deliveries as _deliveries
from bookkeeping.aggregation.deliveries import Delivery as DeliveryRow
from bookkeeping.aggregation.deliveries import DeliveryStore
from bookkeeping.aggregation.errors import NotSignedIn, UnknownDelivery
from bookkeeping.aggregation.filters import SearchFilter as Filter
from bookkeeping.aggregation.filters import from_mapping
from bookkeeping.aggregation.limits import extensions as limit_extensions
from bookkeeping.aggregation.search import dataset_path, iter_matching
from bookkeeping.aggregation.service import SearchAnswer, SearchService
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, Level


@dataclass
class AggregationContext:
    user: str
    logged_in: bool
    reader: Bookkeeping
    searches: SearchService
    deliveries: DeliveryStore | None
    # (token) -> (directory URL, archive URL, WebDAV URL), absolute, made by the web layer.
    delivery_urls: Callable[[str], tuple[str, str, str]]
    # Called when a delivery is queued (wakes the embedded worker or enqueues an rq job).
    on_queued: Callable[[DeliveryRow], None]
    rights: Callable[[str], str | None]  # the user's rwx on a catalogue path, None if unknown
    storage_elements: Callable[[], list[tuple[str, str, str]]]  # (name, site, role)


def _context(info: Info) -> AggregationContext:
    return info.context


def _graphql_error(exc: BookkeepingError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code, "error": type(exc).__name__})


def _guard(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except BookkeepingError as exc:
        raise _graphql_error(exc) from exc


def _long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long must be an integer, not {value!r}")
    return value


# GraphQL's Int is 32-bit; sizes and totals pass 2^31. JSON numbers carry them exactly up
# to 2^53 (9 PB), far beyond any file or delivery here.
Long = NewType("Long", int)
LONG_SCALAR = strawberry.scalar(
    name="Long",
    description="A 64-bit integer (bytes, events), as a JSON number.",
    serialize=int,
    parse_value=_long,
)


@strawberry.enum
class Storage(enum.Enum):
    DISK = "disk"
    TAPE = "tape"


@strawberry.enum
class Composition(enum.Enum):
    ORIGINAL = "original"
    PER_RUN = "per-run"


@strawberry.enum
class DeliveryState(enum.Enum):
    QUEUED = "queued"
    COPYING = "copying"
    READY = "ready"
    EXPIRED = "expired"
    FAILED = "failed"


@strawberry.input(description="Every field is optional; ranges are inclusive at both ends.")
class SearchFilter:
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
    events_min: Long | None = None
    events_max: Long | None = None
    size_min: Long | None = None
    size_max: Long | None = None


def to_filter(given: SearchFilter | None) -> Filter:
    if given is None:
        return Filter()
    values = {
        name: (value.value if isinstance(value, enum.Enum) else value)
        for name, value in vars(given).items()
    }
    from bookkeeping.aggregation.filters import CAMEL

    found: Filter = _guard(lambda: from_mapping({CAMEL[k]: v for k, v in values.items()}))
    return found


@strawberry.type
class File:
    lfn: str
    size: Long = strawberry.field(description="bytes")
    adler32: str


@strawberry.type
class Delivery:
    row: strawberry.Private[DeliveryRow]
    urls: strawberry.Private[tuple[str, str, str]]

    @strawberry.field
    def query_id(self) -> str:
        return self.row.query_id

    @strawberry.field
    def composition(self) -> Composition:
        return Composition(self.row.composition)

    @strawberry.field
    def state(self) -> DeliveryState:
        return DeliveryState(self.row.state)

    @strawberry.field(description="files copied and verified over files to copy, 0 to 1")
    def progress(self) -> float:
        return self.row.progress

    @strawberry.field
    def done(self) -> int:
        return self.row.done

    @strawberry.field
    def total(self) -> int:
        return self.row.total

    @strawberry.field(description="why the preparation failed, for state FAILED")
    def reason(self) -> str | None:
        return self.row.reason

    @strawberry.field
    def directory_url(self) -> str | None:
        return self.urls[0] if self.row.state == "ready" else None

    @strawberry.field
    def archive_url(self) -> str | None:
        return self.urls[1] if self.row.state == "ready" else None

    @strawberry.field
    def webdav_url(self) -> str | None:
        return self.urls[2] if self.row.state == "ready" else None

    @strawberry.field(description="when unused until then, the delivery is removed")
    def expires_at(self) -> datetime:
        return self.row.expires_at


def _delivery(context: AggregationContext, row: DeliveryRow | None) -> Delivery | None:
    return None if row is None else Delivery(row=row, urls=context.delivery_urls(row.token))


@strawberry.type
class SearchResult:
    answer: strawberry.Private[SearchAnswer]

    @strawberry.field(description="MD5 of the search's canonical form")
    def query_id(self) -> str:
        return self.answer.query_id

    @strawberry.field
    def total(self) -> int:
        return self.answer.total

    @strawberry.field
    def total_bytes(self) -> Long:
        return Long(self.answer.total_bytes)

    @strawberry.field
    def total_events(self) -> Long:
        return Long(self.answer.total_events)

    @strawberry.field(description="MD5 of the response's lines 'lfn TAB size TAB adler32'")
    def checksum(self) -> str:
        return self.answer.checksum

    @strawberry.field(description="answered from the response cache")
    def cached(self) -> bool:
        return self.answer.cached

    @strawberry.field(description="hit, miss, or unavailable (cache down: answered uncached)")
    def cache_status(self) -> str:
        return self.answer.cache_status

    @strawberry.field
    def files(self) -> list[File]:
        return [File(lfn=f.lfn, size=Long(f.size), adler32=f.adler32) for f in self.answer.files]

    @strawberry.field(description="pass as 'after' for the next page; null on the last")
    def end_cursor(self) -> str | None:
        return self.answer.end_cursor

    @strawberry.field(description="the signed-in user's delivery of this search, if asked")
    def delivery(
        self, info: Info, composition: Composition = Composition.ORIGINAL
    ) -> Delivery | None:
        context = _context(info)
        if context.deliveries is None or not context.logged_in:
            return None
        row = context.deliveries.find(context.user, self.answer.query_id, composition.value)
        return _delivery(context, row)


@strawberry.type
class LevelCount:
    value: str
    files: int
    events: Long
    bytes: Long


@strawberry.type
class EventType:
    id: int
    description: str | None
    files: int


@strawberry.type
class StorageElement:
    name: str
    site: str
    role: str


@strawberry.type
class Me:
    user: str
    logged_in: bool

    @strawberry.field(description="your rwx on a catalogue directory or entry")
    def rights(self, info: Info, path: str = "/") -> str | None:
        return _context(info).rights(path)

    @strawberry.field(description="your deliveries, newest first")
    def deliveries(self, info: Info) -> list[Delivery]:
        context = _context(info)
        if context.deliveries is None or not context.logged_in:
            return []
        return [
            d
            for d in (_delivery(context, row) for row in context.deliveries.of_owner(self.user))
            if d is not None
        ]


def _levels(info: Info, level: Level, given: SearchFilter | None) -> list[LevelCount]:
    path = dataset_path(to_filter(given))
    values = _guard(lambda: _context(info).reader.level_values(level, path))
    return [
        LevelCount(value=str(v.value), files=v.files, events=Long(v.events), bytes=Long(v.bytes))
        for v in values
    ]


@strawberry.type
class Query:
    @strawberry.field
    def configurations(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.CONFIG_NAME, filter)

    @strawberry.field
    def config_versions(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.CONFIG_VERSION, filter)

    @strawberry.field
    def conditions(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.CONDITIONS, filter)

    @strawberry.field
    def processing_passes(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.PROCESSING_PASS, filter)

    @strawberry.field
    def file_types(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.FILE_TYPE, filter)

    @strawberry.field
    def productions(self, info: Info, filter: SearchFilter | None = None) -> list[LevelCount]:
        return _levels(info, Level.PRODUCTION, filter)

    @strawberry.field
    def event_types(self, info: Info, filter: SearchFilter | None = None) -> list[EventType]:
        path = dataset_path(to_filter(filter))
        values = _guard(lambda: _context(info).reader.level_values(Level.EVENT_TYPE, path))
        return [
            EventType(id=int(v.value), description=v.description, files=v.files) for v in values
        ]

    @strawberry.field(description="data-quality flags of the files a filter selects (streams them)")
    def dq_flags(self, info: Info, filter: SearchFilter) -> list[LevelCount]:
        search = to_filter(filter)
        counts: dict[str, list[int]] = {}
        for record in _guard(lambda: list(iter_matching(_context(info).reader, search))):
            total = counts.setdefault(record.quality or "", [0, 0, 0])
            total[0] += 1
            total[1] += record.events
            total[2] += record.size
        return [
            LevelCount(value=k, files=v[0], events=Long(v[1]), bytes=Long(v[2]))
            for k, v in sorted(counts.items())
        ]

    @strawberry.field(description="registered storage elements, with their site and role")
    def storage_elements(self, info: Info) -> list[StorageElement]:
        return [
            StorageElement(name=n, site=s, role=r) for n, s, r in _context(info).storage_elements()
        ]

    @strawberry.field(description="sites holding a registered storage element")
    def sites(self, info: Info) -> list[str]:
        return sorted({site for _, site, _ in _context(info).storage_elements() if site})

    @strawberry.field(description="who you are and what you may read")
    def me(self, info: Info) -> Me:
        context = _context(info)
        return Me(user=context.user, logged_in=context.logged_in)

    @strawberry.field
    def search(
        self, info: Info, filter: SearchFilter, first: int | None = None, after: str | None = None
    ) -> SearchResult:
        search = to_filter(filter)
        answer = _guard(lambda: _context(info).searches.search(search, first, after))
        return SearchResult(answer=answer)

    @strawberry.field(description="your delivery of a search, by its query id")
    def delivery(
        self, info: Info, query_id: str, composition: Composition = Composition.ORIGINAL
    ) -> Delivery | None:
        context = _context(info)
        if context.deliveries is None or not context.logged_in:
            return None  # nobody signed in has no deliveries (anonymous is everyone)
        return _delivery(
            context, context.deliveries.find(context.user, query_id, composition.value)
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="queue the preparation of a search's files for you")
    def prepare_delivery(
        self,
        info: Info,
        filter: SearchFilter,
        composition: Composition = Composition.ORIGINAL,
    ) -> Delivery:
        context = _context(info)
        if context.deliveries is None:
            raise GraphQLError("deliveries are not configured on this server")
        if not context.logged_in:
            raise _graphql_error(NotSignedIn("log in, or send an API token, to prepare a delivery"))
        search = to_filter(filter)
        answer = _guard(lambda: context.searches.search(search, 0))
        store = context.deliveries
        row = _guard(
            lambda: store.request(
                context.user,
                search,
                checksum=answer.checksum,
                total=answer.total,
                total_bytes=answer.total_bytes,
                composition=composition.value,
            )
        )
        if row.state == "queued":
            # Redis down (rq mode): the delivery stays queued in the database, and the
            # error says so; a worker's sweep of queued rows prepares it later.
            _guard(lambda: context.on_queued(row))
        found = _delivery(context, row)
        if found is None:
            raise _graphql_error(UnknownDelivery("the delivery vanished"))
        return found


def _mask(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (BookkeepingError, GraphQLError))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={Long: LONG_SCALAR}),
        # Parsed and validated documents are kept (a client repeats its queries): a cached
        # search then costs the resolvers only.
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            *limit_extensions(),
            lambda: MaskErrors(should_mask_error=_mask),
        ],
    )


COMPOSITIONS = _deliveries.COMPOSITIONS
