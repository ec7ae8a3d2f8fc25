"""The recall daemon's rows (``worker.RecallWorker``): the requests waiting for a file, the
copies in the areas, and the queue of copies to make (``dh_copies``) with its claims.

Each function is one short transaction (or one read); what to copy from where, and the
copying itself, are the worker's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from bookkeeping.chunking import chunked
from bookkeeping.datahandling.claims import claim, free, now
from bookkeeping.datahandling.requests import finish_if_done, pin_row
from bookkeeping.datahandling.tables import (
    area_files,
    copies,
    pins,
    recall_requests,
    requested_files,
)
from bookkeeping.engines import write_transaction

PLAN_LIMIT = 5000  # waiting files planned per pass
COPY_LIMIT = 50  # disk and recall copies claimed per pass
CARTRIDGE_ROWS = 100_000  # copies claimed from one cartridge at once (all, in practice)


@dataclass(frozen=True)
class Waiting:
    """A request waiting for a file: the areas it accepts, who owns it, its pin's lease."""

    request_id: int
    areas: tuple[str, ...]
    owner: str
    lease_seconds: int


# --- requests and area copies ----------------------------------------------------------


def waiting_without_copy(engine: Engine) -> dict[str, list[Waiting]]:
    """The files requests wait for that have no copy queued, with their requests."""
    r, q, c = requested_files.c, recall_requests.c, copies.c
    query = (
        sa.select(r.lfn, r.request_id, q.areas, q.owner, q.lease_seconds)
        .join(recall_requests, q.request_id == r.request_id)
        .where(r.state == "waiting", ~sa.exists(sa.select(c.copy_id).where(c.lfn == r.lfn)))
        .order_by(r.request_id, r.lfn)
        .limit(PLAN_LIMIT)
    )
    waiting: dict[str, list[Waiting]] = defaultdict(list)
    with engine.connect() as connection:
        for lfn, request_id, areas, owner, lease in connection.execute(query):
            waiting[lfn].append(Waiting(request_id, tuple(areas.split(",")), owner, lease))
    return waiting


def waiting_for(engine: Engine, lfn: str) -> list[Waiting]:
    r, q = requested_files.c, recall_requests.c
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(r.request_id, q.areas, q.owner, q.lease_seconds)
            .join(recall_requests, q.request_id == r.request_id)
            .where(r.lfn == lfn, r.state == "waiting")
        )
        return [Waiting(i, tuple(a.split(",")), o, s) for i, a, o, s in rows]


def present(engine: Engine, lfns: Sequence[str]) -> dict[str, dict[str, str]]:
    """lfn -> {area: path} of the files' copies in the areas."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    a = area_files.c
    with engine.connect() as connection:
        for chunk in chunked(lfns, 500):
            for lfn, area, path in connection.execute(
                sa.select(a.lfn, a.area, a.path).where(a.lfn.in_(chunk))
            ):
                found[lfn][area] = path
    return found


def answer(engine: Engine, lfn: str, area: str, path: str, requests: Sequence[Waiting]) -> int:
    """The requests get the file ready in ``area`` and pinned; how many were answered."""
    stamp = now()
    r = requested_files.c
    done = 0
    with write_transaction(engine) as connection:
        connection.execute(
            area_files.update()
            .where(area_files.c.area == area, area_files.c.lfn == lfn)
            .values(last_used=stamp)
        )
        for w in requests:
            changed = connection.execute(
                requested_files.update()
                .where(r.request_id == w.request_id, r.lfn == lfn, r.state == "waiting")
                .values(state="ready", area=area, path=path)
            ).rowcount
            if changed:
                expires = stamp + timedelta(seconds=w.lease_seconds)
                connection.execute(
                    pins.insert().values(**pin_row(area, lfn, w.owner, w.request_id, expires))
                )
                done += 1
        finish_if_done(connection, [w.request_id for w in requests])
    return done


def fail(engine: Engine, lfn: str, request_ids: Sequence[int], error: str) -> int:
    """The requests' wait for the file fails with ``error``; how many failed."""
    r = requested_files.c
    with write_transaction(engine) as connection:
        changed = connection.execute(
            requested_files.update()
            .where(r.lfn == lfn, r.request_id.in_(list(request_ids)), r.state == "waiting")
            .values(state="failed", error=error[:500])
        ).rowcount
        finish_if_done(connection, request_ids)
    return int(changed)


def record_area_copy(engine: Engine, row: Row, path: str) -> None:
    """The copy ``row`` is in its area at ``path``: registered there, out of the queue."""
    stamp = now()
    a = area_files.c
    with write_transaction(engine) as connection:
        exists = connection.execute(
            sa.select(a.lfn).where(a.area == row.area, a.lfn == row.lfn)
        ).first()
        if exists is None:
            connection.execute(
                area_files.insert().values(
                    area=row.area,
                    lfn=row.lfn,
                    path=path,
                    size=row.size,
                    created=stamp,
                    last_used=stamp,
                )
            )
        connection.execute(copies.delete().where(copies.c.copy_id == row.copy_id))


# --- the queue of copies ---------------------------------------------------------------


def queue_copy(engine: Engine, values: Mapping[str, Any]) -> bool:
    """Queue one copy; False when another daemon queued the file meanwhile (the unique LFN
    refuses a second: the requests wait for that copy)."""
    try:
        with write_transaction(engine) as connection:
            connection.execute(copies.insert().values(**values))
    except IntegrityError:
        return False
    return True


def claim_disk_copies(engine: Engine, me: str, stale_after: float) -> list[Row]:
    """Claim the oldest copies from disk or recall areas (not from tape)."""
    c = copies.c
    with write_transaction(engine) as connection:
        return claim(
            connection,
            copies,
            me,
            where=[c.cartridge.is_(None)],
            order_by=[c.queued],
            limit=COPY_LIMIT,
            stale_after=stale_after,
        )


def claim_due_cartridges(
    engine: Engine, me: str, stale_after: float, tape_age_seconds: float, drives: int
) -> list[Row]:
    """Claim every copy of up to ``drives`` cartridges that are due: no recall for it came
    for ``tape_age_seconds`` (a burst of requests shares one mount), or its oldest recall
    waited ten times that."""
    c = copies.c
    quiet = now() - timedelta(seconds=tape_age_seconds)
    overdue = now() - timedelta(seconds=10 * tape_age_seconds)
    with write_transaction(engine) as connection:
        cartridges = [
            cartridge
            for (cartridge,) in connection.execute(
                sa.select(c.cartridge)
                .where(c.cartridge.is_not(None), free(copies, me, stale_after))
                .group_by(c.cartridge)
                .having(sa.or_(sa.func.max(c.queued) <= quiet, sa.func.min(c.queued) <= overdue))
                .order_by(sa.func.min(c.queued), c.cartridge)
                .limit(drives)
            )
        ]
        return claim(
            connection,
            copies,
            me,
            where=[c.cartridge.in_(cartridges)],
            order_by=[c.cartridge, c.position],
            limit=CARTRIDGE_ROWS,
            stale_after=stale_after,
        )


def claim_cartridge(
    engine: Engine, me: str, source_se: str, cartridge: str, stale_after: float
) -> list[Row]:
    """Claim the copies of one cartridge queued since its read began (unclaimed ones)."""
    c = copies.c
    with write_transaction(engine) as connection:
        return claim(
            connection,
            copies,
            me,
            where=[c.source_se == source_se, c.cartridge == cartridge, c.claimed_by.is_(None)],
            order_by=[c.position],
            limit=CARTRIDGE_ROWS,
            stale_after=stale_after,
        )


def unclaim(engine: Engine, me: str, copy_id: int) -> None:
    """Give a claimed copy back for a later pass."""
    with write_transaction(engine) as connection:
        connection.execute(
            copies.update()
            .where(copies.c.copy_id == copy_id, copies.c.claimed_by == me)
            .values(claimed_by=None, claimed_at=None)
        )


def drop(engine: Engine, copy_id: int) -> None:
    with write_transaction(engine) as connection:
        connection.execute(copies.delete().where(copies.c.copy_id == copy_id))
