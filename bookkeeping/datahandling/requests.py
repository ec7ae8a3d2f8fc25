"""Recall requests: what a client asks and what it is answered (the API side of the recall
daemon; the copying is ``worker.py``'s).

A request lists files and the recall areas (storage elements of role ``recall``) the client
can read. ``submit`` answers at once what it can: an unknown LFN or an area that is not a
recall element is named and left out, a file already in one of the areas is ``ready`` there
and pinned for the requester; the others wait for the daemon's copy. Every answered file is
pinned with a lease (``renew`` extends it, ``release`` drops the request's pins, an expired
lease is swept); a pinned copy is never evicted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bookkeeping.chunking import chunked
from bookkeeping.datahandling.claims import now
from bookkeeping.datahandling.errors import BadRecallRequest
from bookkeeping.datahandling.tables import area_files, pins, recall_requests, requested_files
from bookkeeping.engines import write_transaction
from bookkeeping.interface import Bookkeeping
from bookkeeping.writer.validation import lfn_problems

MAX_FILES = 10_000
MAX_AREAS = 16
MAX_LEASE = 7 * 24 * 3600
IN_CHUNK = 500

# name -> role of a registered storage element, None when there is none of that name
RoleOf = Callable[[Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class FileAnswer:
    lfn: str
    state: str  # waiting | ready | failed
    area: str | None = None
    path: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RequestStatus:
    request_id: int
    owner: str
    areas: tuple[str, ...]
    files: tuple[FileAnswer, ...]
    problems: tuple[str, ...] = field(default=())  # what submit refused (areas)
    pins: tuple[tuple[str, str, datetime], ...] = field(default=())  # (lfn, area, expires)

    @property
    def done(self) -> bool:
        return all(f.state != "waiting" for f in self.files)

    def as_json(self) -> dict[str, object]:
        counts = {state: 0 for state in ("waiting", "ready", "failed")}
        for answer in self.files:
            counts[answer.state] += 1
        return {
            "request": self.request_id,
            "owner": self.owner,
            "areas": list(self.areas),
            "done": self.done,
            "counts": counts,
            "problems": list(self.problems),
            "files": [
                {k: v for k, v in vars(answer).items() if v is not None} for answer in self.files
            ],
            "pins": [
                {"lfn": lfn, "area": area, "expires": expires.isoformat(sep=" ")}
                for lfn, area, expires in self.pins
            ],
        }


def _checked(owner: object, lfns: object, areas: object, lease: object) -> tuple[list[str], ...]:
    if not isinstance(owner, str) or not owner or len(owner) > 64:
        raise BadRecallRequest("owner must be a name of 1 to 64 characters")
    if isinstance(lfns, str) or not isinstance(lfns, Sequence) or not lfns:
        raise BadRecallRequest("files must be a non-empty list of LFNs")
    if len(lfns) > MAX_FILES:
        raise BadRecallRequest(f"at most {MAX_FILES} files per request, not {len(lfns)}")
    if isinstance(areas, str) or not isinstance(areas, Sequence) or not areas:
        raise BadRecallRequest("areas must be a non-empty list of recall storage elements")
    if len(areas) > MAX_AREAS or not all(isinstance(a, str) and a for a in areas):
        raise BadRecallRequest(f"areas must be 1 to {MAX_AREAS} storage element names")
    if isinstance(lease, bool) or not isinstance(lease, int) or not 1 <= lease <= MAX_LEASE:
        raise BadRecallRequest(f"lease must be 1 to {MAX_LEASE} seconds")
    bad = [repr(x) for x in lfns if not isinstance(x, str) or lfn_problems(x)]
    if bad:
        raise BadRecallRequest(f"not an LFN: {', '.join(bad[:5])}")
    return list(dict.fromkeys(lfns)), list(dict.fromkeys(areas))


class RecallRequests:
    def __init__(self, engine: Engine, bookkeeping: Bookkeeping, role_of: RoleOf) -> None:
        self.engine = engine
        self.bookkeeping = bookkeeping
        self.role_of = role_of

    def submit(
        self, owner: str, lfns: Sequence[str], areas: Sequence[str], lease_seconds: int
    ) -> RequestStatus:
        wanted, asked_areas = _checked(owner, lfns, areas, lease_seconds)
        roles = self.role_of(asked_areas)
        problems = [
            f"area {a}: no such storage element"
            if a not in roles
            else f"area {a}: storage element of role {roles[a]}, not recall"
            for a in asked_areas
            if roles.get(a) != "recall"
        ]
        good = [a for a in asked_areas if roles.get(a) == "recall"]
        known = {r.lfn for r in self.bookkeeping.files_metadata(wanted).found}
        stamp = now()
        with write_transaction(self.engine) as connection:
            inserted = connection.execute(
                recall_requests.insert().values(
                    owner=owner,
                    areas=",".join(good),
                    lease_seconds=lease_seconds,
                    created=stamp,
                )
            ).inserted_primary_key
            assert inserted is not None
            request_id = int(inserted[0])
            present = _touch_present(connection, [x for x in wanted if x in known], good)
            rows, new_pins = [], []
            expires = stamp + timedelta(seconds=lease_seconds)
            for lfn in wanted:
                row = {
                    "request_id": request_id,
                    "lfn": lfn,
                    "state": "waiting",
                    "area": None,
                    "path": None,
                    "error": None,
                }
                if lfn not in known:
                    row |= {"state": "failed", "error": "no such file in the bookkeeping"}
                elif not good:
                    row |= {"state": "failed", "error": "no acceptable recall area"}
                elif lfn in present:
                    area, path = present[lfn]
                    row |= {"state": "ready", "area": area, "path": path}
                    new_pins.append(pin_row(area, lfn, owner, request_id, expires))
                rows.append(row)
            connection.execute(requested_files.insert(), rows)
            if new_pins:
                connection.execute(pins.insert(), new_pins)
            finish_if_done(connection, [int(request_id)])
        found = self.status(int(request_id))
        assert found is not None
        return RequestStatus(
            found.request_id, owner, found.areas, found.files, tuple(problems), found.pins
        )

    def status(self, request_id: int) -> RequestStatus | None:
        with self.engine.connect() as connection:
            request = connection.execute(
                sa.select(recall_requests).where(recall_requests.c.request_id == request_id)
            ).first()
            if request is None:
                return None
            r = requested_files.c
            found = connection.execute(
                sa.select(r.lfn, r.state, r.area, r.path, r.error)
                .where(r.request_id == request_id)
                .order_by(r.lfn)
            )
            files = tuple(FileAnswer(*row) for row in found)
            held = connection.execute(
                sa.select(pins.c.lfn, pins.c.area, pins.c.expires)
                .where(pins.c.request_id == request_id)
                .order_by(pins.c.lfn, pins.c.area)
            )
            pinned = tuple((lfn, area, expires) for lfn, area, expires in held)
        areas = tuple(a for a in request.areas.split(",") if a)
        return RequestStatus(request_id, request.owner, areas, files, pins=pinned)

    def renew(self, request_id: int, lease_seconds: int) -> int:
        """Extend the lease of the request's pins from now; returns how many."""
        if isinstance(lease_seconds, bool) or not 1 <= int(lease_seconds) <= MAX_LEASE:
            raise BadRecallRequest(f"lease must be 1 to {MAX_LEASE} seconds")
        expires = now() + timedelta(seconds=int(lease_seconds))
        with write_transaction(self.engine) as connection:
            return int(
                connection.execute(
                    pins.update().where(pins.c.request_id == request_id).values(expires=expires)
                ).rowcount
            )

    def release(self, request_id: int) -> int:
        """Drop the request's pins (the client closed its files); returns how many."""
        with write_transaction(self.engine) as connection:
            return int(
                connection.execute(pins.delete().where(pins.c.request_id == request_id)).rowcount
            )


def pin_row(area: str, lfn: str, owner: str, request_id: int, expires: object) -> dict[str, object]:
    return {
        "area": area,
        "lfn": lfn,
        "owner": owner,
        "request_id": request_id,
        "expires": expires,
    }


def _touch_present(
    connection: Connection, lfns: Sequence[str], areas: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """lfn -> (area, path) of the files present in one of ``areas`` (the first in the
    request's order), their ``last_used`` set now. The update locks the rows, so an eviction
    deciding about them waits and then sees the pin this transaction adds."""
    if not lfns or not areas:
        return {}
    a = area_files.c
    stamp = now()
    found: dict[str, tuple[str, str]] = {}
    order = {area: index for index, area in enumerate(areas)}
    for chunk in chunked(lfns, IN_CHUNK):
        where = (a.lfn.in_(chunk), a.area.in_(areas))
        connection.execute(area_files.update().where(*where).values(last_used=stamp))
        rows = connection.execute(sa.select(a.lfn, a.area, a.path).where(*where))
        for lfn, area, path in sorted(rows, key=lambda row: order[row.area]):
            found.setdefault(lfn, (area, path))
    return found


def finish_if_done(connection: Connection, request_ids: Sequence[int]) -> None:
    """Stamp ``finished`` on the requests none of whose files is waiting any more."""
    r = requested_files.c
    waiting = sa.select(r.request_id).where(r.request_id == recall_requests.c.request_id)
    connection.execute(
        recall_requests.update()
        .where(
            recall_requests.c.request_id.in_(list(request_ids)),
            recall_requests.c.finished.is_(None),
            ~sa.exists(waiting.where(r.state == "waiting")),
        )
        .values(finished=now())
    )
