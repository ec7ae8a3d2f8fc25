"""``bk syncat status``: backlog, sent, applied and refused (by reason), from the tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.syncat.relay import outbox_backlog
from bookkeeping.syncat.tables import outbox, quarantine, received, suspicious


@dataclass(frozen=True)
class Counts:
    endpoint: str | None
    backlog: int  # outbox rows not yet confirmed by the broker
    sent: int  # outbox rows confirmed
    applied: int  # messages applied by the endpoint
    applied_files: int
    refused: dict[str, int] = field(default_factory=dict)  # reason -> messages
    quarantined: int = 0
    suspicious: int = 0
    oldest_unsent_s: float | None = None  # how long the oldest backlog row has waited


def counts(engine: Engine, endpoint: str | None = None) -> Counts:
    """Figures of every endpoint, or of one."""
    o, r = outbox.c, received.c
    backlog = outbox_backlog(engine)
    where = [] if endpoint is None else [r.endpoint == endpoint]
    with engine.connect() as connection:
        sent = connection.scalar(sa.select(sa.func.count()).where(o.sent.is_not(None)))
        applied, files = connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(r.files), 0)).where(
                r.outcome == "applied", *where
            )
        ).one()
        refused = {
            str(reason): int(n)
            for reason, n in connection.execute(
                sa.select(r.reason, sa.func.count())
                .where(r.outcome == "refused", *where)
                .group_by(r.reason)
            )
        }
        dark = connection.scalar(sa.select(sa.func.count()).select_from(quarantine))
        doubtful = connection.scalar(sa.select(sa.func.count()).select_from(suspicious))
    return Counts(
        endpoint,
        backlog.files,
        int(sent or 0),
        int(applied),
        int(files),
        refused,
        int(dark or 0),
        int(doubtful or 0),
        None if backlog.oldest_age is None else round(backlog.oldest_age, 1),
    )
