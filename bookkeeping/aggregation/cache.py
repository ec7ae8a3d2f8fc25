"""The response cache: Redis in production, a pair of database tables as the embedded default.

Both keep, per query id, the totals and checksum of the response and its files in order, so
a cache hit answers a page with one round trip (Redis: a pipeline of HGETALL, LRANGE and the
two EXPIREs that keep a used entry alive; the database: one join). An entry unused for its
time to live disappears: Redis expires its keys itself, the database cache is swept
(``sweep``) and ignores expired rows until then.

Redis layout (``PREFIX`` lets tests and several installations share a server):
``{prefix}q:{id}`` a hash whose fields are the search's filters (camelCase) plus ``_total``,
``_bytes``, ``_events``, ``_checksum``, ``_created``; ``{prefix}q:{id}:files`` a list of
``lfn<TAB>size<TAB>adler32`` strings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.aggregation.errors import CacheUnavailable
from bookkeeping.aggregation.filters import SearchFilter, canonical, to_mapping
from bookkeeping.aggregation.search import MatchedFile, SearchResponse
from bookkeeping.aggregation.tables import cached_files, cached_queries
from bookkeeping.bulk import insert_rows
from bookkeeping.chunking import chunked
from bookkeeping.engines import write_transaction

REDIS_CHUNK = 2000


@dataclass(frozen=True)
class CachedAnswer:
    query_id: str
    total: int
    total_bytes: int
    total_events: int
    checksum: str
    page: tuple[MatchedFile, ...]


class ResponseCache(Protocol):
    def answer(self, query_id: str, offset: int, limit: int) -> CachedAnswer | None:
        """The cached totals and one page, or ``None`` when not cached (or expired); a hit
        renews the entry's time to live."""
        ...

    def store(self, query_id: str, search: SearchFilter, response: SearchResponse) -> None: ...

    def forget(self, query_id: str) -> None: ...

    def contains(self, query_id: str) -> bool: ...

    def sweep(self) -> int:
        """Remove expired entries; how many went."""
        ...


def _now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC throughout


def _parse_line(line: str | bytes) -> MatchedFile:
    text = line.decode() if isinstance(line, bytes) else line
    lfn, size, adler32 = text.split("\t")
    return MatchedFile(lfn, int(size), adler32)


class DatabaseCache:
    """The embedded default: ``agg_cached_queries`` and ``agg_cached_files``."""

    def __init__(self, engine: Engine, ttl_seconds: int) -> None:
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_seconds)

    def answer(self, query_id: str, offset: int, limit: int) -> CachedAnswer | None:
        q, f = cached_queries.c, cached_files.c
        now = _now()
        statement = (
            sa.select(
                q.total,
                q.total_bytes,
                q.total_events,
                q.checksum,
                q.expires_at,
                f.lfn,
                f.size,
                f.adler32,
            )
            .select_from(
                cached_queries.outerjoin(
                    cached_files,
                    sa.and_(
                        f.query_id == q.query_id, f.position >= offset, f.position < offset + limit
                    ),
                )
            )
            .where(q.query_id == query_id, q.expires_at > now)
            .order_by(f.position)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        if not rows:
            return None
        first = rows[0]
        if first.expires_at - now < self.ttl / 2:
            # Renew only when half the lifetime is gone: a hit stays one read most times.
            with write_transaction(self.engine) as connection:
                connection.execute(
                    cached_queries.update()
                    .where(q.query_id == query_id)
                    .values(expires_at=now + self.ttl)
                )
        page = tuple(MatchedFile(r.lfn, r.size, r.adler32) for r in rows if r.lfn is not None)
        return CachedAnswer(
            query_id, first.total, first.total_bytes, first.total_events, first.checksum, page
        )

    def store(self, query_id: str, search: SearchFilter, response: SearchResponse) -> None:
        now = _now()
        with write_transaction(self.engine) as connection:
            connection.execute(cached_files.delete().where(cached_files.c.query_id == query_id))
            connection.execute(cached_queries.delete().where(cached_queries.c.query_id == query_id))
            connection.execute(
                cached_queries.insert(),
                {
                    "query_id": query_id,
                    "canonical": canonical(search),
                    "total": response.total,
                    "total_bytes": response.total_bytes,
                    "total_events": response.total_events,
                    "checksum": response.checksum,
                    "created_at": now,
                    "expires_at": now + self.ttl,
                },
            )
            rows = [
                (query_id, position, found.lfn, found.size, found.adler32)
                for position, found in enumerate(response.files)
            ]
            insert_rows(
                connection, cached_files, ("query_id", "position", "lfn", "size", "adler32"), rows
            )

    def forget(self, query_id: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(cached_files.delete().where(cached_files.c.query_id == query_id))
            connection.execute(cached_queries.delete().where(cached_queries.c.query_id == query_id))

    def contains(self, query_id: str) -> bool:
        q = cached_queries.c
        with self.engine.connect() as connection:
            found = connection.scalar(
                sa.select(q.query_id).where(q.query_id == query_id, q.expires_at > _now())
            )
        return found is not None

    def sweep(self) -> int:
        q = cached_queries.c
        with write_transaction(self.engine) as connection:
            expired = list(connection.scalars(sa.select(q.query_id).where(q.expires_at <= _now())))
            for chunk in chunked(expired, 500):
                connection.execute(cached_files.delete().where(cached_files.c.query_id.in_(chunk)))
                connection.execute(cached_queries.delete().where(q.query_id.in_(chunk)))
        return len(expired)


class RedisCache:
    """Production: a hash per query (fields = the filters) and a list of its files."""

    def __init__(self, client: Any, ttl_seconds: int, prefix: str = "bk:agg:") -> None:
        self.client = client
        self.ttl = ttl_seconds
        self.prefix = prefix

    def _keys(self, query_id: str) -> tuple[str, str]:
        key = f"{self.prefix}q:{query_id}"
        return key, f"{key}:files"

    def _run(self, pipeline: Any) -> list[Any]:
        import redis

        try:
            return pipeline.execute()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise CacheUnavailable(f"the response cache (Redis) is unreachable: {exc}") from exc

    def answer(self, query_id: str, offset: int, limit: int) -> CachedAnswer | None:
        meta_key, files_key = self._keys(query_id)
        pipeline = self.client.pipeline(transaction=False)
        pipeline.hmget(meta_key, "_total", "_bytes", "_events", "_checksum")
        pipeline.lrange(files_key, offset, offset + limit - 1)
        pipeline.expire(meta_key, self.ttl)
        pipeline.expire(files_key, self.ttl)
        meta, lines, _, _ = self._run(pipeline)
        if meta[0] is None:
            return None
        total, total_bytes, total_events, checksum = meta
        return CachedAnswer(
            query_id,
            int(total),
            int(total_bytes),
            int(total_events),
            checksum.decode() if isinstance(checksum, bytes) else checksum,
            tuple(_parse_line(line) for line in lines),
        )

    def store(self, query_id: str, search: SearchFilter, response: SearchResponse) -> None:
        meta_key, files_key = self._keys(query_id)
        fields: dict[str, Any] = {name: str(value) for name, value in to_mapping(search).items()}
        fields.update(
            _total=response.total,
            _bytes=response.total_bytes,
            _events=response.total_events,
            _checksum=response.checksum,
            _created=int(time.time()),
        )
        # One MULTI: readers see the whole entry or none of it.
        pipeline = self.client.pipeline(transaction=True)
        pipeline.delete(meta_key, files_key)
        lines: Sequence[str] = [found.line().rstrip("\n") for found in response.files]
        for chunk in chunked(lines, REDIS_CHUNK):
            pipeline.rpush(files_key, *chunk)
        pipeline.hset(meta_key, mapping=fields)
        pipeline.expire(meta_key, self.ttl)
        pipeline.expire(files_key, self.ttl)
        self._run(pipeline)

    def forget(self, query_id: str) -> None:
        pipeline = self.client.pipeline(transaction=False)
        pipeline.delete(*self._keys(query_id))
        self._run(pipeline)

    def contains(self, query_id: str) -> bool:
        pipeline = self.client.pipeline(transaction=False)
        pipeline.exists(self._keys(query_id)[0])
        return bool(self._run(pipeline)[0])

    def filters(self, query_id: str) -> dict[str, str]:
        """The hash's filter fields (without the ``_`` bookkeeping fields)."""
        pipeline = self.client.pipeline(transaction=False)
        pipeline.hgetall(self._keys(query_id)[0])
        raw = self._run(pipeline)[0]
        decoded = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
        return {k: v for k, v in decoded.items() if not k.startswith("_")}

    def sweep(self) -> int:
        return 0  # Redis expires keys itself


def redis_client(url: str) -> Any:
    """A client that fails at once when the server is down (redis-py would otherwise retry
    for seconds): a search then answers uncached instead of waiting."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=0.5, socket_timeout=5
    )
