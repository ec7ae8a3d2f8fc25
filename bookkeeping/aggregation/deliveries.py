"""Prepared deliveries as rows: requested, claimed by a worker, progressed, finished, expired.

A delivery belongs to the user who asked for it: one row per (query id, composition,
requester), reached by that user through GraphQL and by anyone holding its ``token`` (a
random capability in its URLs, never derived from the query id, which anyone can compute).
The row is also the queue entry: workers claim ``queued`` rows, and ``copying`` rows whose
worker has not shown a heartbeat for ``stale_after`` seconds (a killed worker), with
``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it, so a preparation is resumed
by the next worker and never shown ready with files missing.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.aggregation.errors import DeliveryTooLarge
from bookkeeping.aggregation.filters import SearchFilter, canonical, query_id
from bookkeeping.aggregation.tables import deliveries, delivery_files
from bookkeeping.engines import write_transaction

State = Literal["queued", "copying", "ready", "expired", "failed"]
Composition = Literal["original", "per-run"]
COMPOSITIONS: tuple[Composition, ...] = ("original", "per-run")
MAX_ATTEMPTS = 3


def now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC throughout


@dataclass(frozen=True)
class DeliverySettings:
    buffer_root: Path
    ttl_seconds: int = 24 * 3600
    max_files: int = 10_000
    max_bytes: int = 50 * 1024**3
    stale_after: int = 60  # seconds without a heartbeat before another worker takes over


@dataclass(frozen=True)
class Delivery:
    id: int
    query_id: str
    owner: str
    composition: Composition
    token: str
    canonical: str
    checksum: str
    state: State
    done: int
    total: int
    total_bytes: int
    reason: str | None
    last_used_at: datetime
    ttl_seconds: int
    attempts: int

    @property
    def expires_at(self) -> datetime:
        return self.last_used_at + timedelta(seconds=self.ttl_seconds)

    @property
    def progress(self) -> float:
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass(frozen=True)
class PlannedFile:
    position: int
    lfn: str
    name: str
    size: int
    adler32: str
    verified: bool


def _delivery(row: sa.Row) -> Delivery:
    return Delivery(
        id=row.id,
        query_id=row.query_id,
        owner=row.owner,
        composition=row.composition,
        token=row.token,
        canonical=row.canonical,
        checksum=row.checksum,
        state=row.state,
        done=row.done,
        total=row.total,
        total_bytes=row.total_bytes,
        reason=row.reason,
        last_used_at=row.last_used_at,
        ttl_seconds=row.ttl_seconds,
        attempts=row.attempts,
    )


class DeliveryStore:
    def __init__(self, engine: Engine, settings: DeliverySettings) -> None:
        self.engine = engine
        self.settings = settings

    # --- asking -------------------------------------------------------------------------
    def request(
        self,
        owner: str,
        search: SearchFilter,
        *,
        checksum: str,
        total: int,
        total_bytes: int,
        composition: Composition = "original",
    ) -> Delivery:
        """Queue a delivery of the search's response for ``owner`` (or return the one queued,
        in progress or ready); a failed or expired one is queued again. Over the cap of files
        or bytes: ``DeliveryTooLarge``, nothing queued."""
        cap = self.settings
        if total > cap.max_files:
            raise DeliveryTooLarge(
                f"delivery of {total} files is over the cap of {cap.max_files} files "
                "(aggregation max_files); narrow the search"
            )
        if total_bytes > cap.max_bytes:
            raise DeliveryTooLarge(
                f"delivery of {total_bytes} bytes is over the cap of {cap.max_bytes} bytes "
                "(aggregation max_bytes); narrow the search"
            )
        identifier = query_id(search)
        stamp = now()
        c = deliveries.c
        with write_transaction(self.engine) as connection:
            row = connection.execute(
                sa.select(deliveries)
                .where(c.query_id == identifier, c.composition == composition, c.owner == owner)
                .with_for_update()
            ).first()
            if row is None:
                connection.execute(
                    deliveries.insert(),
                    {
                        "query_id": identifier,
                        "owner": owner,
                        "composition": composition,
                        "token": secrets.token_urlsafe(32),
                        "canonical": canonical(search),
                        "checksum": checksum,
                        "state": "queued",
                        "done": 0,
                        "total": total,
                        "total_bytes": total_bytes,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "last_used_at": stamp,
                        "ttl_seconds": cap.ttl_seconds,
                        "attempts": 0,
                    },
                )
            elif row.state in ("failed", "expired"):
                connection.execute(
                    delivery_files.delete().where(delivery_files.c.delivery_id == row.id)
                )
                connection.execute(
                    deliveries.update()
                    .where(c.id == row.id)
                    .values(
                        state="queued",
                        done=0,
                        total=total,
                        total_bytes=total_bytes,
                        checksum=checksum,
                        reason=None,
                        worker=None,
                        heartbeat_at=None,
                        attempts=0,
                        updated_at=stamp,
                        last_used_at=stamp,
                        token=secrets.token_urlsafe(32),
                    )
                )
            found = connection.execute(
                sa.select(deliveries).where(
                    c.query_id == identifier, c.composition == composition, c.owner == owner
                )
            ).one()
        return _delivery(found)

    def find(self, owner: str, identifier: str, composition: Composition) -> Delivery | None:
        c = deliveries.c
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(deliveries).where(
                    c.query_id == identifier, c.composition == composition, c.owner == owner
                )
            ).first()
        return None if row is None else _delivery(row)

    def of_owner(self, owner: str) -> list[Delivery]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(deliveries)
                .where(deliveries.c.owner == owner)
                .order_by(deliveries.c.id.desc())
            ).all()
        return [_delivery(row) for row in rows]

    def get(self, delivery_id: int) -> Delivery | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(deliveries).where(deliveries.c.id == delivery_id)
            ).first()
        return None if row is None else _delivery(row)

    def by_token(self, token: str) -> Delivery | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(deliveries).where(deliveries.c.token == token)
            ).first()
        return None if row is None else _delivery(row)

    def touch(self, delivery_id: int) -> None:
        """A download or a listing: the delivery's time to live starts again."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                deliveries.update().where(deliveries.c.id == delivery_id).values(last_used_at=now())
            )

    def directory(self, delivery: Delivery) -> Path:
        """The buffer directory, named by the query id (one subfolder per requester)."""
        return self.settings.buffer_root / delivery.query_id / delivery.token

    # --- working ------------------------------------------------------------------------
    def claim(self, worker: str, delivery_id: int | None = None) -> Delivery | None:
        """Take a queued delivery, or one whose worker stopped showing a heartbeat."""
        c = deliveries.c
        stale = now() - timedelta(seconds=self.settings.stale_after)
        claimable = sa.or_(
            c.state == "queued", sa.and_(c.state == "copying", c.heartbeat_at < stale)
        )
        statement = sa.select(deliveries).where(claimable).order_by(c.id).limit(1)
        if delivery_id is not None:
            statement = statement.where(c.id == delivery_id)
        with write_transaction(self.engine) as connection:
            row = connection.execute(statement.with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            stamp = now()
            values: dict[str, object] = {
                "state": "copying",
                "worker": worker,
                "heartbeat_at": stamp,
                "updated_at": stamp,
                "attempts": row.attempts + 1,
            }
            if row.attempts + 1 > MAX_ATTEMPTS:
                values = {
                    "state": "failed",
                    "worker": None,
                    "updated_at": stamp,
                    "reason": f"gave up after {MAX_ATTEMPTS} attempts (workers stopped "
                    "mid-preparation)",
                }
            connection.execute(deliveries.update().where(c.id == row.id).values(**values))
            claimed = connection.execute(sa.select(deliveries).where(c.id == row.id)).one()
        return _delivery(claimed) if claimed.state == "copying" else None

    def heartbeat(self, delivery_id: int, worker: str, done: int) -> bool:
        """Record progress; ``False`` when the delivery is no longer this worker's."""
        c = deliveries.c
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.worker == worker, c.state == "copying")
                .values(done=done, heartbeat_at=now(), updated_at=now())
            ).rowcount
        return bool(changed)

    def plan(self, delivery_id: int, files: Sequence[PlannedFile]) -> list[PlannedFile]:
        """The delivery's files, planned once: a resumed preparation finds the same plan."""
        f = delivery_files.c
        with write_transaction(self.engine) as connection:
            existing = connection.execute(
                sa.select(delivery_files).where(f.delivery_id == delivery_id).order_by(f.position)
            ).all()
            if not existing:
                connection.execute(
                    delivery_files.insert(),
                    [
                        {
                            "delivery_id": delivery_id,
                            "position": p.position,
                            "lfn": p.lfn,
                            "name": p.name,
                            "size": p.size,
                            "adler32": p.adler32,
                            "verified": False,
                        }
                        for p in files
                    ],
                ) if files else None
                return list(files)
        return [
            PlannedFile(r.position, r.lfn, r.name, r.size, r.adler32, r.verified) for r in existing
        ]

    def manifest(self, delivery_id: int) -> list[tuple[PlannedFile, str | None]]:
        f = delivery_files.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(delivery_files).where(f.delivery_id == delivery_id).order_by(f.position)
            ).all()
        return [
            (PlannedFile(r.position, r.lfn, r.name, r.size, r.adler32, r.verified), r.source)
            for r in rows
        ]

    def verified(self, delivery_id: int, position: int, source: str, size: int) -> None:
        """The file's bytes are in the buffer, checked; ``size`` is theirs."""
        f = delivery_files.c
        with write_transaction(self.engine) as connection:
            connection.execute(
                delivery_files.update()
                .where(f.delivery_id == delivery_id, f.position == position)
                .values(verified=True, source=source, size=size)
            )

    def finish(
        self, delivery_id: int, worker: str, state: State, reason: str | None = None
    ) -> bool:
        c = deliveries.c
        stamp = now()
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.worker == worker, c.state == "copying")
                .values(
                    state=state, reason=reason, worker=None, updated_at=stamp, last_used_at=stamp
                )
            ).rowcount
        return bool(changed)

    # --- expiry -------------------------------------------------------------------------
    def expire(self) -> list[Delivery]:
        """Ready or failed deliveries unused for their time to live: their buffer removed,
        their state ``expired``. Returned so that the caller drops their cache entries."""
        c = deliveries.c
        stamp = now()
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(deliveries).where(c.state.in_(("ready", "failed")))
            ).all()
        gone = [
            _delivery(row)
            for row in rows
            if row.last_used_at + timedelta(seconds=row.ttl_seconds) <= stamp
        ]
        for delivery in gone:
            shutil.rmtree(self.directory(delivery), ignore_errors=True)
            parent = self.directory(delivery).parent
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
            with write_transaction(self.engine) as connection:
                connection.execute(
                    delivery_files.delete().where(delivery_files.c.delivery_id == delivery.id)
                )
                connection.execute(
                    deliveries.update()
                    .where(c.id == delivery.id, c.state == delivery.state)
                    .values(state="expired", updated_at=stamp, done=0)
                )
        return gone
