"""The aggregation service assembled: cache, search service, delivery store, file source,
and how queued deliveries reach a worker.

Embedded default (``redis_url`` unset): the database cache and, in the web process, a
worker thread that takes queued deliveries from the database. Production (``redis_url``
set): the Redis cache, and an ``rq`` job per queued delivery for ``bk aggregation worker``;
the delivery row stays the truth either way (an rq job only names the row to claim).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine

from bookkeeping.aggregation.cache import DatabaseCache, RedisCache, ResponseCache, redis_client
from bookkeeping.aggregation.deliveries import Delivery, DeliverySettings, DeliveryStore
from bookkeeping.aggregation.preparation import Preparer
from bookkeeping.aggregation.service import SearchService
from bookkeeping.aggregation.sources import Recaller, StorageSource
from bookkeeping.errors import ConfigError
from bookkeeping.interface import Bookkeeping
from bookkeeping.storage.registry import StorageRegistry

log = logging.getLogger(__name__)

RQ_QUEUE = "bk-aggregation"
MAX_FAILED_ROUNDS = 5
WorkerMode = Literal["thread", "rq", "none"]


@dataclass(frozen=True)
class AggregationSettings:
    buffer_root: Path
    redis_url: str | None = None
    redis_prefix: str = "bk:agg:"
    cache_ttl: int = 3600
    delivery_ttl: int = 24 * 3600
    max_files: int = 10_000
    max_bytes: int = 50 * 1024**3
    stale_after: int = 60
    # "thread" (embedded), "rq" (enqueue for `bk aggregation worker`), "none" (tests drive it)
    worker: WorkerMode = "thread"
    poll_seconds: float = 1.0
    # "daemon": files only on tape are recalled by the data-handling recall daemon first;
    # "none": read from the tape element directly.
    recall: str = "none"
    extra: dict[str, Any] = field(default_factory=dict)

    def delivery_settings(self) -> DeliverySettings:
        return DeliverySettings(
            self.buffer_root, self.delivery_ttl, self.max_files, self.max_bytes, self.stale_after
        )


_INTEGER_SETTINGS = {
    "CACHE_TTL": "cache_ttl",
    "DELIVERY_TTL": "delivery_ttl",
    "MAX_FILES": "max_files",
    "MAX_BYTES": "max_bytes",
    "STALE_AFTER": "stale_after",
}


def environment_lookup(key: str) -> str | None:
    """``BK_AGGREGATION_<KEY>`` from the environment."""
    return os.environ.get(f"BK_AGGREGATION_{key}")


def settings_from(lookup: Callable[[str], Any], data_dir: Path) -> AggregationSettings:
    """Settings from ``lookup(KEY)`` (``BUFFER_DIR``, ``REDIS_URL``, ``REDIS_PREFIX``,
    ``WORKER``, ``CACHE_TTL``, ...; None when unset): the web app looks in its config and
    then the environment, the CLI in the environment. Without a Redis URL the embedded
    defaults: the database cache and the worker thread."""
    buffer = lookup("BUFFER_DIR")
    values: dict[str, Any] = {
        "buffer_root": Path(buffer) if buffer else data_dir / "deliveries",
        "redis_url": lookup("REDIS_URL") or None,
    }
    recall = lookup("RECALL")
    if recall:
        if recall not in ("daemon", "none"):
            raise ConfigError(f"aggregation RECALL {recall!r} is not one of daemon, none")
        values["recall"] = recall
    prefix = lookup("REDIS_PREFIX")
    if prefix:
        values["redis_prefix"] = prefix
    worker = lookup("WORKER")
    values["worker"] = worker or ("rq" if values["redis_url"] else "thread")
    if values["worker"] not in ("thread", "rq", "none"):
        raise ConfigError(f"aggregation WORKER {worker!r} is not one of thread, rq, none")
    for key, name in _INTEGER_SETTINGS.items():
        value = lookup(key)
        if value is not None:
            try:
                values[name] = int(value)
            except ValueError:
                raise ConfigError(f"aggregation {key} must be an integer, not {value!r}") from None
    return AggregationSettings(**values)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Aggregation:
    def __init__(self, engine: Engine, reader: Bookkeeping, settings: AggregationSettings) -> None:
        self.engine = engine
        self.reader = reader
        self.settings = settings
        self.redis: Any = redis_client(settings.redis_url) if settings.redis_url else None
        self.cache: ResponseCache = (
            RedisCache(self.redis, settings.cache_ttl, settings.redis_prefix)
            if self.redis is not None
            else DatabaseCache(engine, settings.cache_ttl)
        )
        self.searches = SearchService(reader, self.cache)
        self.deliveries = DeliveryStore(engine, settings.delivery_settings())
        self._thread: WorkerThread | None = None
        # Makes the recall daemon's client for files only on tape (one per preparation), set
        # by whoever assembles the service (bookkeeping.aggregation_recall); None: tape is
        # read through the storage API.
        self.recaller_factory: Callable[[], Recaller] | None = None

    # --- storage -------------------------------------------------------------------------
    def storage_elements(self) -> list[tuple[str, str, str]]:
        return [(r.name, r.site, r.role) for r in StorageRegistry(self.engine).list()]

    def file_source(self) -> StorageSource:
        return StorageSource(self.reader, StorageRegistry(self.engine))

    def preparer(self) -> Preparer:
        recaller = self.recaller_factory() if self.recaller_factory is not None else None
        return Preparer(self.deliveries, self.reader, self.file_source(), recaller)

    # --- the queue -------------------------------------------------------------------------
    def queued(self, delivery: Delivery) -> None:
        if self.settings.worker == "thread":
            self.start_worker_thread().wake()
        elif self.settings.worker == "rq":
            self.enqueue(delivery)

    def enqueue(self, delivery: Delivery) -> None:
        from rq import Queue

        from bookkeeping.aggregation.errors import CacheUnavailable

        try:
            Queue(RQ_QUEUE, connection=self.redis).enqueue(
                "bookkeeping.aggregation.worker.rq_prepare",
                delivery.id,
                job_timeout=24 * 3600,
            )
        except Exception as exc:  # noqa: BLE001 - any Redis failure: the row waits, said so
            # The delivery stays queued in the database: a worker's sweep of queued rows
            # picks it up once Redis is back.
            log.warning("could not enqueue delivery %s: %s", delivery.id, exc)
            raise CacheUnavailable(
                f"the job queue (Redis) is unreachable; delivery {delivery.id} waits queued"
            ) from exc

    def run_once(self, worker: str | None = None, delivery_id: int | None = None) -> bool:
        """Expire what is due, then prepare one claimable delivery; whether one was."""
        self.expire()
        name = worker or worker_name()
        claimed = self.deliveries.claim(name, delivery_id)
        if claimed is None:
            return False
        self.preparer().run(claimed, name)
        return True

    def expire(self) -> int:
        gone = self.deliveries.expire()
        for delivery in gone:
            try:
                self.cache.forget(delivery.query_id)
            except Exception as exc:  # noqa: BLE001 - the cache entry expires by itself anyway
                log.warning("could not drop cache entry %s: %s", delivery.query_id, exc)
        self.cache.sweep()
        return len(gone)

    def start_worker_thread(self) -> WorkerThread:
        if self._thread is None or not self._thread.is_alive():
            self._thread = WorkerThread(self)
            self._thread.start()
        return self._thread

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
        if self.redis is not None:
            self.redis.close()


class WorkerThread(threading.Thread):
    """The embedded worker: prepares queued deliveries, expires unused ones."""

    def __init__(self, aggregation: Aggregation) -> None:
        super().__init__(name="bk-aggregation-worker", daemon=True)
        self.aggregation = aggregation
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        name = worker_name()
        failures = 0
        while not self._stop.is_set():
            try:
                while self.aggregation.run_once(name) and not self._stop.is_set():
                    pass
                failures = 0
            except Exception:  # noqa: BLE001 - a daemon logs and goes on; state is in rows
                failures += 1
                log.exception("aggregation worker round failed (%d in a row)", failures)
                if failures >= MAX_FAILED_ROUNDS:
                    # The database is gone or broken: stop; the next queued delivery starts
                    # a new thread, and the rows keep what was done.
                    log.error("aggregation worker stops after %d failed rounds", failures)
                    return
            self._wake.wait(self.aggregation.settings.poll_seconds)
            self._wake.clear()
