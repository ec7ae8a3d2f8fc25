"""Catalogue subtree replication: a slave catalogue replays its master's update log.

The master logs every entry write under a subtree registered with role ``master``
(``engine/update_log.py``). A ``SubtreeReplica`` joins a master database and a slave
database — any back-ends, e.g. a site's SQLite copy of ``/fileParams`` from a PostgreSQL
master: ``bootstrap()`` copies the subtree (a snapshot taken after noting the log's
position) and registers it read-only on the slave; ``catch_up()`` replays the records after
the slave's position; ``run()`` does so until stopped. Records carry whole entry states, so
replaying one twice, or over a snapshot that already holds it, changes nothing: a crash
between applying a batch and saving the position is harmless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.directories import COLLECTION
from bookkeeping.amga_adapter.engine.errors import (
    DirectoryExists,
    NoSuchAttribute,
    NoSuchDirectory,
    NoSuchEntry,
)
from bookkeeping.amga_adapter.engine.paths import join, split
from bookkeeping.amga_adapter.engine.permissions import ROOT
from bookkeeping.amga_adapter.engine.subtree_roles import ROLES_TTL_S, ReplayPrincipal, roles_for
from bookkeeping.amga_adapter.engine.update_log import COUNTER
from bookkeeping.config import mask_url
from bookkeeping.engines import write_transaction
from bookkeeping.replication.errors import ReplicationLogError
from bookkeeping.replication.prune import (
    check_not_pruned,
    in_subtree,
    register_slave,
    report_applied,
    slave_name,
)
from bookkeeping.replication.tables import (
    replication_counter,
    replication_log,
    replication_state,
    replication_subtrees,
)

log = logging.getLogger(__name__)

BATCH = 500
POLL_S = 0.05
_DATA_OPS = frozenset({"upsert", "delete"})
_SCHEMA_OPS = frozenset({"rmdir", "removeattr", "meta"})


@dataclass(frozen=True)
class _Record:
    id: int
    created: float
    directory: str
    op: str
    payload: dict[str, Any]


def register_master(engine: Engine, path: str) -> None:
    """Log the entry writes under ``path`` from now on (idempotent)."""
    _check_path(path)
    with write_transaction(engine) as connection:
        if connection.scalar(
            sa.select(replication_subtrees.c.role).where(replication_subtrees.c.path == path)
        ):
            return
        connection.execute(
            replication_subtrees.insert().values(
                path=path, role="master", master="", registered=time.time()
            )
        )
        if (
            connection.scalar(
                sa.select(replication_counter.c.value).where(replication_counter.c.name == COUNTER)
            )
            is None
        ):
            connection.execute(replication_counter.insert().values(name=COUNTER, value=0))
    roles_for(engine).forget()


@dataclass(frozen=True)
class ReplicaStatus:
    path: str
    master: str
    applied_id: int
    master_id: int  # the newest record of this subtree at the master
    pending: int
    lag_s: float  # age of the oldest record not yet applied (0: caught up)


class SubtreeReplica:
    """The subtree ``path`` of ``master`` kept in ``slave``."""

    def __init__(
        self, master: Engine, slave: Engine, path: str, *, name: str | None = None
    ) -> None:
        self.master = master
        self.slave = slave
        self.path = _check_path(path)
        self.master_name = mask_url(master.url)
        # How the master knows this slave (replication_slaves), to prune its log.
        self.slave_id = name or slave_name(slave)
        self.slave_description = mask_url(slave.url)
        self._reporting = True
        self._slave_catalogue = Catalogue(slave)
        self._known_schema: dict[str, dict[str, str]] = {}

    # -- bootstrap ---------------------------------------------------------------------

    def bootstrap(self) -> int:
        """Copy the subtree as it is now and make it a read-only replica on the slave;
        returns the log position the slave starts from."""
        register_master(self.master, self.path)
        self._wait_until_every_master_process_logs()
        self._drop_old_copy()
        start = self._register_at_master()
        copied = 0
        reader = Catalogue(self.master).session(ROOT)
        directories = []
        for directory, types, rows in _snapshot(reader, self.path):
            self._ensure_schema(directory, types)
            session = self._replay_session()
            session.begin()
            try:
                for name, values in rows:
                    self._upsert(session, directory, name, values)
                session.apply_entry_metadata(directory, reader.entry_metadata(directory))
                session.commit()
            except BaseException:
                session.abort()
                raise
            copied += len(rows)
            directories.append(directory)
        # Metadata once every directory holds its entries: a reference constraint checks
        # the directory it names.
        for directory in directories:
            self._replay_session().apply_metadata(directory, reader.directory_metadata(directory))
        with write_transaction(self.slave) as connection:
            connection.execute(
                replication_subtrees.delete().where(replication_subtrees.c.path == self.path)
            )
            connection.execute(
                replication_subtrees.insert().values(
                    path=self.path, role="slave", master=self.master_name, registered=time.time()
                )
            )
            self._save_position(connection, start, time.time())
        roles_for(self.slave).forget()
        log.info(
            "bootstrapped %s from %s: %d entries, log position %d",
            self.path,
            self.master_name,
            copied,
            start,
        )
        return start

    def _drop_old_copy(self) -> None:
        """Bootstrapping again (after the master pruned what this slave needed): the old
        copy goes first, or entries removed at the master meanwhile would stay."""
        with self.slave.connect() as connection:
            role = connection.scalar(
                sa.select(replication_subtrees.c.role).where(
                    replication_subtrees.c.path == self.path
                )
            )
        if role != "slave":
            return
        try:
            self._replay_session().rmdir(self.path, recursive=True)
        except NoSuchDirectory:
            pass
        self._known_schema.clear()

    def _register_at_master(self) -> int:
        """The log position the snapshot starts from, registered at the master (so a
        prune keeps what this slave needs) where the login may write there."""
        try:
            return register_slave(self.master, self.slave_id, self.slave_description, self.path)
        except sa.exc.DBAPIError as exc:
            log.warning(
                "cannot register %s's slave at the master (%s): its log will be pruned by "
                "retention only",
                self.path,
                exc.orig,
            )
            self._reporting = False
            return self._master_position()

    def _wait_until_every_master_process_logs(self) -> None:
        # Processes read the subtree roles at most ROLES_TTL_S late; once that much time
        # has passed since registration, every write under the subtree is logged, so a
        # position taken now and a snapshot taken after it miss nothing.
        with self.master.connect() as connection:
            registered = connection.scalar(
                sa.select(replication_subtrees.c.registered).where(
                    replication_subtrees.c.path == self.path
                )
            )
        remaining = float(registered or 0) + ROLES_TTL_S + 0.1 - time.time()
        if remaining > 0:
            time.sleep(remaining)

    # -- catching up ---------------------------------------------------------------------

    def catch_up(self, limit: int = 100_000) -> int:
        """Replay the records after the slave's position (at most ``limit``); returns how
        many were applied."""
        applied = 0
        while applied < limit:
            records = self._records_after(self._position(), min(BATCH, limit - applied))
            if not records:
                break
            self._apply(records)
            applied += len(records)
        if applied and self._reporting:
            self._reporting = report_applied(
                self.master, self.slave_id, self.slave_description, self.path, self._position()
            )
        return applied

    def run(self, stop: threading.Event, poll_s: float = POLL_S) -> None:
        """Replay as records come, until ``stop`` is set."""
        while not stop.is_set():
            if not self.catch_up(limit=BATCH):
                stop.wait(poll_s)

    def _records_after(self, position: int, limit: int) -> list[sa.Row[Any]]:
        log_ = replication_log.c
        query = (
            sa.select(log_.id, log_.created, log_.directory, log_.op, log_.payload)
            .where(log_.id > position, in_subtree(log_.directory, self.path))
            .order_by(log_.id)
            .limit(limit)
        )
        with self.master.connect() as connection:
            records: list[sa.Row[Any]] = list(connection.execute(query))
            # After the read: a prune that removed records this slave still needed is
            # seen here (its mark commits with its deletions), never a silent gap.
            check_not_pruned(connection, self.path, position)
        return records

    def _apply(self, records: list[sa.Row[Any]]) -> None:
        """Apply ``records`` in order: runs of entry records in one slave transaction
        each, with the position saved in it; a schema or metadata record (DDL, which
        commits by itself on MariaDB) on its own, then its position."""
        decoded = [_Record(r.id, r.created, r.directory, r.op, _decode(r)) for r in records]
        for record in decoded:
            if record.op not in _DATA_OPS | _SCHEMA_OPS:
                raise ReplicationLogError(
                    f"log record {record.id} has unknown operation {record.op!r}"
                )
        run: list[_Record] = []
        for record in decoded:
            if record.op in _DATA_OPS:
                run.append(record)
                continue
            self._apply_data(run)
            run = []
            self._apply_schema(record)
            with write_transaction(self.slave) as connection:
                self._save_position(connection, record.id, record.created)
        self._apply_data(run)

    def _apply_data(self, records: list[_Record]) -> None:
        if not records:
            return
        # Columns first, outside the data transaction (MariaDB's DDL would commit it).
        for record in records:
            if record.op == "upsert":
                self._ensure_schema(record.directory, record.payload["types"])
        session = self._replay_session()
        session.begin()
        try:
            for record in records:
                directory, payload = record.directory, record.payload
                if record.op == "upsert":
                    names = list(payload["types"])
                    for name, values in payload["rows"]:
                        state = dict(zip(names, values, strict=True))
                        self._upsert(session, directory, name, state)
                    if "meta" in payload:  # entries' owner and rights
                        rows = [
                            [row[0], *meta]
                            for row, meta in zip(payload["rows"], payload["meta"], strict=True)
                        ]
                        session.apply_entry_metadata(directory, rows)
                else:
                    for name in payload["names"]:
                        try:
                            session.rm(join(directory, name))
                        except (NoSuchEntry, NoSuchDirectory):
                            pass  # already gone: replaying a record twice is harmless
            connection = session.connection_in_transaction
            assert connection is not None
            self._save_position(connection, records[-1].id, records[-1].created)
            session.commit()
        except BaseException:
            session.abort()
            raise

    def _apply_schema(self, record: _Record) -> None:
        if record.op == "meta":
            try:
                self._replay_session().apply_metadata(record.directory, record.payload)
            except NoSuchDirectory:
                pass  # removed by a later record already applied: nothing to set
        else:
            self._remove_schema(record.directory, record.op, record.payload)

    # -- the slave's side --------------------------------------------------------------

    def _replay_session(self) -> CatalogueSession:
        return CatalogueSession(self._slave_catalogue, ReplayPrincipal(ROOT))

    def _ensure_schema(self, directory: str, types: dict[str, str]) -> None:
        known = self._known_schema.get(directory)
        if known is not None and all(known.get(n) == t for n, t in types.items()):
            return
        session = self._replay_session()
        _makedirs(session, directory)
        if types:
            session.ensure_attributes(directory, types)
        self._known_schema[directory] = dict(session.listattr(directory))

    def _remove_schema(self, directory: str, op: str, payload: dict[str, Any]) -> None:
        session = self._replay_session()
        self._known_schema.pop(directory, None)
        try:
            if op == "rmdir":
                session.rmdir(directory, recursive=True)
                for known in [d for d in self._known_schema if d.startswith(directory + "/")]:
                    self._known_schema.pop(known, None)
            else:
                session.removeattr(directory, payload["name"], force=True)
        except (NoSuchDirectory, NoSuchAttribute):
            pass  # already gone: replaying a record twice is harmless

    @staticmethod
    def _upsert(
        session: CatalogueSession, directory: str, name: str, values: dict[str, object]
    ) -> None:
        path = join(directory, name)
        try:
            if values:
                session.setattr(path, values)
            else:
                list(session.getattr(path, []))
        except NoSuchEntry:
            session.addentry(path, values)

    def _position(self) -> int:
        with self.slave.connect() as connection:
            position = connection.scalar(
                sa.select(replication_state.c.applied_id).where(
                    replication_state.c.path == self.path
                )
            )
        if position is None:
            raise ReplicationLogError(
                f"{self.path} has not been bootstrapped on this slave: run "
                "`bk replication bootstrap` first"
            )
        return int(position)

    def _save_position(self, connection: sa.Connection, number: int, created: float) -> None:
        state = replication_state.c
        values = {"applied_id": number, "applied_created": created, "applied_at": time.time()}
        updated = connection.execute(
            replication_state.update().where(state.path == self.path).values(**values)
        ).rowcount
        if not updated:
            connection.execute(replication_state.insert().values(path=self.path, **values))

    def _master_position(self) -> int:
        with self.master.connect() as connection:
            value = connection.scalar(
                sa.select(replication_counter.c.value).where(replication_counter.c.name == COUNTER)
            )
        return int(value or 0)

    # -- status ------------------------------------------------------------------------

    def status(self) -> ReplicaStatus:
        applied = self._position()
        log_ = replication_log.c
        mine = in_subtree(log_.directory, self.path)
        with self.master.connect() as connection:
            newest = connection.scalar(sa.select(sa.func.max(log_.id)).where(mine))
            pending, oldest = connection.execute(
                sa.select(sa.func.count(), sa.func.min(log_.created)).where(mine, log_.id > applied)
            ).one()
        lag = max(0.0, time.time() - float(oldest)) if pending else 0.0
        return ReplicaStatus(
            self.path, self.master_name, applied, int(newest or 0), int(pending), lag
        )


def _snapshot(
    session: CatalogueSession, root: str
) -> Iterator[tuple[str, dict[str, str], list[tuple[str, dict[str, object]]]]]:
    """(directory, attribute types, entries) of every directory under ``root``."""
    pending = [root]
    while pending:
        directory = pending.pop(0)
        types = dict(session.listattr(directory))
        names = list(types)
        children: list[str] = []
        rows: list[tuple[str, dict[str, object]]] = []
        for path, kind in session.dir(directory):
            if kind == COLLECTION:
                children.append(path)
        for name, values in session.getattr(join(directory, "*"), names):
            rows.append((name, dict(zip(names, values, strict=True))))
        yield directory, types, rows
        pending.extend(children)


def _makedirs(session: CatalogueSession, directory: str) -> None:
    if directory == "/":
        return
    try:
        session.createdir(directory)
    except DirectoryExists:
        return
    except NoSuchDirectory:
        _makedirs(session, split(directory)[0])
        try:
            session.createdir(directory)
        except DirectoryExists:
            return


def _check_path(path: str) -> str:
    if not path.startswith("/") or (path != "/" and path.endswith("/")):
        raise ReplicationLogError(
            f"subtree {path!r} must be an absolute directory path without a trailing '/'"
        )
    return path


def _decode(record: sa.Row[Any]) -> dict[str, Any]:
    try:
        payload = json.loads(record.payload)
    except ValueError as exc:
        raise ReplicationLogError(f"log record {record.id} is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ReplicationLogError(f"log record {record.id} is not a JSON object")
    return payload
