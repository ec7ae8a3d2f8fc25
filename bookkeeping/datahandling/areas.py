"""Recall areas: making room by evicting the least-recently-used unpinned copies.

An area's copies are ``dh_area_files`` rows. Eviction takes the oldest-used rows that no
live pin holds, each in a transaction that locks the row first and checks the pins after
(a request pinning it at the same moment either pinned first, and the copy stays, or waits
and finds it gone, and gets a new copy), then forgets the bookkeeping's recall copy, and
only then deletes the bytes. A pinned copy is never evicted; an area full of pinned copies
is ``StorageFull`` and the copy waiting for room stays queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.datahandling.claims import now
from bookkeeping.datahandling.tables import area_files, pins
from bookkeeping.engines import write_transaction
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import StorageFull

EVICTION_BATCH = 20


@dataclass(frozen=True)
class Evicted:
    area: str
    lfn: str
    path: str
    size: int


def live_pin(area: sa.ColumnElement, lfn: sa.ColumnElement) -> sa.Exists:
    p = pins.c
    return sa.exists(sa.select(p.pin_id).where(p.area == area, p.lfn == lfn, p.expires > now()))


def free_bytes(element: StorageElement, watermark: int) -> int | None:
    usage = element.usage()
    if usage.capacity is None:
        return None
    return usage.capacity - usage.used - watermark


def make_room(
    engine: Engine,
    area: str,
    element: StorageElement,
    needed: int,
    *,
    watermark: int = 0,
    forget: Callable[[str, str], None],
) -> list[Evicted]:
    """Evict unpinned copies of ``area``, least recently used first, until ``needed`` bytes
    fit; ``forget(area, lfn)`` removes the bookkeeping's recall copy."""
    evicted: list[Evicted] = []
    free = free_bytes(element, watermark)
    a = area_files.c
    while free is not None and free < needed:
        with engine.connect() as connection:
            candidates = list(
                connection.execute(
                    sa.select(a.lfn, a.path, a.size)
                    .where(a.area == area, ~live_pin(a.area, a.lfn))
                    .order_by(a.last_used, a.lfn)
                    .limit(EVICTION_BATCH)
                )
            )
        if not candidates:
            raise StorageFull(
                f"recall area {area}: {needed} bytes do not fit and every copy there is pinned",
                se=area,
            )
        for lfn, path, size in candidates:
            if not _unregister(engine, area, lfn):
                continue  # pinned or gone meanwhile
            forget(area, lfn)
            if element.exists(path):
                element.delete(path)
            evicted.append(Evicted(area, lfn, path, int(size)))
            free += int(size)
            if free >= needed:
                break
        free = free_bytes(element, watermark)
    return evicted


def _unregister(engine: Engine, area: str, lfn: str) -> bool:
    """Delete the row if no live pin holds the copy (the row locked before the pins are read)."""
    a = area_files.c
    with write_transaction(engine) as connection:
        locked = sa.select(a.lfn).where(a.area == area, a.lfn == lfn)
        if connection.dialect.name != "sqlite":
            locked = locked.with_for_update()
        if connection.execute(locked).first() is None:
            return False
        pinned = connection.execute(sa.select(live_pin(sa.literal(area), sa.literal(lfn)))).scalar()
        if pinned:
            return False
        connection.execute(area_files.delete().where(a.area == area, a.lfn == lfn))
        return True


def sweep_pins(engine: Engine) -> int:
    """Delete the pins whose lease expired; returns how many."""
    with write_transaction(engine) as connection:
        return int(connection.execute(pins.delete().where(pins.c.expires <= now())).rowcount)
