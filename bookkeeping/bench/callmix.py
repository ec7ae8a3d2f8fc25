"""The random call mix (seed 001: "hundred thousand random calls ... with random parameters").

``Pools`` holds values sampled from the recorded bookkeeping (ids, LFNs, GUIDs, paths);
``call_stream(pools, n, seed)`` draws ``n`` calls over every method of
``bookkeeping.interface.Bookkeeping``, uniformly and in random order, with random parameters
(about one in ten asks for something that does not exist). The same ``(pools, n, seed)``
gives the same stream, so every access path answers exactly the same calls.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.bench.stats import summarise
from bookkeeping.interface import (
    Bookkeeping,
    Comparison,
    DatasetPath,
    FileRecord,
    JobRecord,
    Level,
    ListingQuery,
)
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.tables import file_params, files, job_params, jobs

SAMPLE = 300
MISS_RATE = 0.1
_MISSING_ID = 10**12
_ORDERS = ("lfn", "size", "events", "run", "production", "creation", "file_id")
_PATH_FIELDS = (
    "config_name",
    "config_version",
    "conditions",
    "processing_pass",
    "event_type",
    "file_type",
)
# Methods that return iterators: the call is timed until the last item is read.
_STREAMING = frozenset({"iter_files", "iter_listing"})

METHODS = (
    "level_values",
    "files",
    "iter_files",
    "file_by_id",
    "file_by_lfn",
    "files_metadata",
    "file_parameter",
    "file_parameters",
    "parameter_where",
    "job",
    "job_parameters",
    "ancestors",
    "descendants",
    "replicas",
    "replicas_of",
    "quality_flags",
    "search",
    "count_listing",
    "iter_listing",
)


@dataclass(frozen=True)
class Pools:
    files: tuple[FileRecord, ...]
    jobs: dict[int, JobRecord]  # by job id, for the sampled files' jobs
    file_parameter_names: tuple[str, ...]
    job_parameter_names: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def sample_pools(engine: Engine, seed: int, size: int = SAMPLE) -> Pools:
    """Files (with their jobs) sampled from the warehouse, reproducibly."""
    warehouse = WarehouseBookkeeping(engine)
    with engine.connect() as connection:
        file_ids = list(connection.scalars(sa.select(files.c.file_id).order_by(files.c.file_id)))
        file_names = tuple(
            connection.scalars(sa.select(file_params.c.name).distinct().order_by("name"))
        )
        job_names = tuple(
            connection.scalars(sa.select(job_params.c.name).distinct().order_by("name"))
        )
        job_count = connection.scalar(sa.select(sa.func.count()).select_from(jobs))
    if not file_ids or not job_count:
        raise ValueError("the warehouse holds no files: populate it first")
    chosen = random.Random(seed).sample(file_ids, min(size, len(file_ids)))
    records = tuple(record for fid in chosen if (record := warehouse.file_by_id(fid)))
    job_records = {
        record.job_id: job
        for record in records
        if (job := warehouse.job(record.job_id)) is not None
    }
    return Pools(records, job_records, file_names, job_names)


class _Draw:
    def __init__(self, pools: Pools, rng: random.Random) -> None:
        self.pools, self.rng = pools, rng

    def miss(self) -> bool:
        return self.rng.random() < MISS_RATE

    def file(self) -> FileRecord:
        return self.rng.choice(self.pools.files)

    def file_id(self) -> int:
        return _MISSING_ID + self.rng.randrange(1000) if self.miss() else self.file().file_id

    def job_id(self) -> int:
        return _MISSING_ID + self.rng.randrange(1000) if self.miss() else self.file().job_id

    def lfn(self) -> str:
        return f"/lhcb/missing/{self.rng.randrange(10**6)}.dst" if self.miss() else self.file().lfn

    def path(self, min_depth: int = 0) -> DatasetPath:
        """The path of a sampled file cut at a random depth; sometimes a production too."""
        record = self.file()
        job = self.pools.jobs.get(record.job_id)
        if job is None:
            return DatasetPath(file_type=record.file_type)
        values = (
            job.config_name,
            job.config_version,
            job.conditions,
            job.processing_pass,
            record.event_type,
            record.file_type,
        )
        depth = self.rng.randint(min_depth, len(values))
        chosen: dict[str, Any] = dict(zip(_PATH_FIELDS[:depth], values[:depth], strict=True))
        if self.rng.random() < 0.3:
            chosen["production"] = record.production
        return DatasetPath(**chosen)

    def listing(self) -> ListingQuery:
        record = self.file()
        where = self.rng.choice(
            [
                None,
                Comparison("production", "=", (record.production,)),
                Comparison("run", ">=", (record.run or 0,)),
                Comparison("size", ">", (record.size,)),
            ]
        )
        return ListingQuery(record.file_type, where, disk_only=self.rng.random() < 0.5)


def _draw_call(method: str, draw: _Draw) -> Call:
    rng = draw.rng
    match method:
        case "level_values":
            return Call(method, (rng.choice(list(Level)), draw.path()))
        case "files":
            kwargs = {
                "offset": rng.randrange(0, 100),
                "limit": rng.choice([10, 25, 50, 100]),
                "order_by": rng.choice(_ORDERS),
                "descending": rng.random() < 0.5,
            }
            return Call(method, (draw.path(),), kwargs)
        case "iter_files":
            # deep paths only: a dump of the whole bookkeeping is the table-dump benchmark
            return Call(method, (draw.path(min_depth=5),), {"order_by": rng.choice(_ORDERS)})
        case "file_by_lfn":
            return Call(method, (draw.lfn(),))
        case "files_metadata":
            return Call(method, (tuple(draw.lfn() for _ in range(rng.randint(1, 20))),))
        case "replicas_of":
            return Call(method, (tuple(draw.file_id() for _ in range(rng.randint(1, 20))),))
        case "file_parameter":
            return Call(method, (draw.file_id(), rng.choice(draw.pools.file_parameter_names)))
        case "parameter_where":
            record = draw.file()
            guid = "00000000-dead-beef-0000-000000000000" if draw.miss() else record.guid
            name = rng.choice(draw.pools.file_parameter_names)
            return Call(method, (name, "GUID", guid))
        case "job" | "job_parameters":
            return Call(method, (draw.job_id(),))
        case "ancestors" | "descendants":
            return Call(method, (draw.file_id(), rng.randint(1, 3)))
        case "search":
            record = draw.file()
            criteria: dict[str, Any] = rng.choice(
                [
                    {"lfn": record.lfn[-24:]},
                    {"guid": record.guid},
                    {"production": record.production, "limit": 50},
                    {"production": record.production, "run": record.run},
                ]
            )
            return Call(method, (), criteria)
        case "count_listing" | "iter_listing":
            return Call(method, (draw.listing(),))
        case _:  # file_by_id, file_parameters, replicas, quality_flags
            return Call(method, (draw.file_id(),))


def call_stream(pools: Pools, count: int, seed: int) -> list[Call]:
    rng = random.Random(seed)
    draw = _Draw(pools, rng)
    return [_draw_call(rng.choice(METHODS), draw) for _ in range(count)]


@dataclass
class MixResult:
    """Seconds per call, by method, and the calls that raised (by method: count, example)."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    statements: dict[str, list[int]] = field(default_factory=dict)  # when counted

    def summary(self) -> dict[str, dict[str, float]]:
        """Per method: calls, mean/median/p95 in microseconds, errors."""
        out: dict[str, dict[str, float]] = {}
        for method in METHODS:
            timings = self.seconds.get(method, [])
            if not timings:
                continue
            stats = summarise(timings)
            out[method] = {
                "calls": stats.count,
                "mean_us": stats.mean * 1e6,
                "median_us": stats.median * 1e6,
                "p95_us": stats.p95 * 1e6,
                "errors": self.errors.get(method, (0, ""))[0],
            }
            counted = self.statements.get(method)
            if counted:
                out[method]["statements_mean"] = sum(counted) / len(counted)
                out[method]["statements_max"] = max(counted)
        return out


def run_stream(
    bookkeeping: Bookkeeping,
    calls: Sequence[Call],
    on_call: Callable[[], None] | None = None,
    statements: Callable[[], int] | None = None,
) -> MixResult:
    """Make every call, timing each one alone; a call that raises is timed and counted.
    ``statements``: a running count of the statements sent to the database (an
    in-process path's), read around each call."""
    result = MixResult()
    clock = time.perf_counter
    for call in calls:
        function = getattr(bookkeeping, call.method)
        error: Exception | None = None
        sent = statements() if statements is not None else 0
        started = clock()
        try:
            answer = function(*call.args, **call.kwargs)
            if call.method in _STREAMING:
                deque(answer, maxlen=0)
        except Exception as exc:  # noqa: BLE001 - a failing call is a result to report
            error = exc
        result.seconds.setdefault(call.method, []).append(clock() - started)
        if statements is not None:
            result.statements.setdefault(call.method, []).append(statements() - sent)
        if error is not None:
            count, example = result.errors.get(call.method, (0, ""))
            result.errors[call.method] = (count + 1, example or f"{type(error).__name__}: {error}")
        if on_call is not None:
            on_call()
    return result


@contextmanager
def statement_counter(engine: Engine) -> Iterator[Callable[[], int]]:
    """A running count of the statements ``engine`` sends (SQLite's emulated ``BEGIN``
    left out: it is no round trip of its own on the server back-ends)."""
    count = [0]

    def counted(conn: Any, cursor: Any, statement: str, *args: object) -> None:
        if not statement.startswith("BEGIN"):
            count[0] += 1

    sa.event.listen(engine, "before_cursor_execute", counted)
    try:
        yield lambda: count[0]
    finally:
        sa.event.remove(engine, "before_cursor_execute", counted)
