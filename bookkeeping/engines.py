"""One factory for every supported database engine.

SQLite gets WAL, foreign keys and a busy timeout, and real transactions: pysqlite's own
implicit BEGIN handling is switched off so that ``BEGIN`` is emitted by SQLAlchemy, DDL is
transactional, and a writer can ask for ``BEGIN IMMEDIATE`` (take the write lock up front,
so two writers never deadlock upgrading a read lock) with ``write_connection``.
Server back-ends get a pool sized for a multi-threaded server and pre-ping, and, like
SQLite's busy timeout, a bound on how long a statement waits for a lock: the catalogue adds
columns and tables (DDL) while readers run, and an ALTER queued forever behind a forgotten
transaction would also queue every later reader of that table behind it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from bookkeeping.config import normalise_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long a statement on a server back-end waits for a lock (row, table or metadata lock)
# before it fails with an error instead of hanging.
LOCK_TIMEOUT_S = 60
_SQLITE_BEGIN_OPTION = "bk_sqlite_begin"


def backend_name(engine_or_url: Engine | Connection | str) -> str:
    """``sqlite``, ``postgresql``, ``mariadb`` or ``oracle``."""
    if isinstance(engine_or_url, str):
        name = make_url(engine_or_url).get_backend_name()
    else:
        name = engine_or_url.dialect.name
    return "mariadb" if name in {"mysql", "mariadb"} else name


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    lock_timeout_s: int = LOCK_TIMEOUT_S,
    **kwargs: Any,
) -> Engine:
    """Create an engine for a supported URL (normalised and checked first).

    ``lock_timeout_s`` bounds lock waits on PostgreSQL and MariaDB (whole seconds, >= 1)."""
    if lock_timeout_s < 1:
        raise ValueError(f"lock_timeout_s must be at least 1 second, not {lock_timeout_s}")
    url = normalise_database_url(url)
    parsed = make_url(url)
    kind = backend_name(url)
    options: dict[str, Any] = {"echo": echo, "future": True}
    if kind == "sqlite":
        options["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        database = parsed.database or ""
        in_memory = database in {"", ":memory:"} or parsed.query.get("mode") == "memory"
        if not in_memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            options.update(pool_size=pool_size, max_overflow=2 * pool_size)
    else:
        options.update(
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            pool_pre_ping=True,
            pool_recycle=3600,
        )
    if kind == "postgresql":
        options["connect_args"] = {"options": f"-c lock_timeout={lock_timeout_s * 1000}"}
    if kind == "mariadb":
        # utf8mb4 so any unicode survives; READ COMMITTED matches PostgreSQL's default and
        # avoids InnoDB gap locks between concurrent writers of different entries.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        options["isolation_level"] = "READ COMMITTED"
        # Metadata locks (DDL) wait a day by default; row locks already stop at 50 s.
        options["connect_args"] = {
            "init_command": f"SET SESSION lock_wait_timeout = {lock_timeout_s}"
        }
    connect_args = {**options.get("connect_args", {}), **kwargs.pop("connect_args", {})}
    options.update(kwargs)
    if connect_args:
        options["connect_args"] = connect_args
    engine = sa.create_engine(parsed, **options)
    if kind == "sqlite":
        _configure_sqlite(engine, wal=not _is_memory(parsed))
    return engine


def _is_memory(url: sa.URL) -> bool:
    return (url.database or ":memory:") == ":memory:" or url.query.get("mode") == "memory"


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction meant to write: commits on success, rolls back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at
    once, so concurrent writers queue on the busy timeout instead of failing with
    "database is locked" when they would upgrade a shared lock.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection = connection.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection
        note_commit(engine, connection)


# -- read replicas ---------------------------------------------------------------------
# An engine may have read replicas (``bookkeeping.replication.routing`` attaches them).
# Readers ask ``read_connection``; writers go on using the engine (the primary) and, after
# each commit, ``note_commit`` lets the routing learn the primary's new WAL position, so a
# later read goes to a replica only once it has replayed that position (read-your-writes).

# A replay position: a WAL byte offset (PostgreSQL) or a GTID list such as "0-1-42"
# (MariaDB); only the routing compares them. 0 or "" is a position every replica has.
Position = int | str


class ReadRouting(Protocol):
    def connect_for_read(self, since: Position | None) -> Connection:
        """A connection to a replica that has replayed ``since`` (None: every commit of
        this process), or to the primary."""

    def committed(self, connection: Connection) -> None:
        """``connection`` (to the primary) has just committed a write."""

    @property
    def position(self) -> Position:
        """The primary's position after the latest commit of this process."""

    def may_retry(self, exc: BaseException) -> bool:
        """Whether a read that failed with ``exc`` ran on a replica now set aside (so the
        same read, asked again, goes elsewhere)."""


_ROUTING: weakref.WeakKeyDictionary[Engine, ReadRouting] = weakref.WeakKeyDictionary()


def set_read_routing(engine: Engine, routing: ReadRouting | None) -> None:
    if routing is None:
        _ROUTING.pop(engine, None)
    else:
        _ROUTING[engine] = routing


def read_routing(engine: Engine) -> ReadRouting | None:
    return _ROUTING.get(engine)


def read_connection(engine: Engine, since: Position | None = None) -> Connection:
    """A connection for reads only: to a healthy replica that has replayed ``since`` when
    the engine has replicas, else to the engine's own database."""
    routing = _ROUTING.get(engine)
    return engine.connect() if routing is None else routing.connect_for_read(since)


def write_position(engine: Engine) -> Position | None:
    """The position a reader must see to read this process's writes (None: no replicas)."""
    routing = _ROUTING.get(engine)
    return None if routing is None else routing.position


def note_commit(engine: Engine, connection: Connection) -> None:
    routing = _ROUTING.get(engine)
    if routing is not None:
        routing.committed(connection)


def may_retry_read(engine: Engine, exc: BaseException) -> bool:
    routing = _ROUTING.get(engine)
    return routing is not None and routing.may_retry(exc)
