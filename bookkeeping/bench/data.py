"""The benchmark's databases and data: deterministic, generated, the same for every path.

``bench_database`` gives an engine on a scratch database (or on ``--db``, which must hold no
bookkeeping yet) with the static schema and a ``root`` user whose password the protocol
clients use. ``populate`` records the same generated productions into the warehouse and into
the catalogue; ``build_dump_table`` makes a files-shaped table of ``rows`` rows in both
layouts (a warehouse table and a catalogue directory).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.errors import DirectoryExists
from bookkeeping.amga_adapter.engine.passwords import hash_password, verify_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.backends import open_writer
from bookkeeping.bench.errors import BenchDataError
from bookkeeping.bench.settings import BenchSettings
from bookkeeping.chunking import chunked
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.errors import BookkeepingError
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.tables import files as files_table
from bookkeeping.writer.model import RecordStatus
from bookkeeping.writer.service import record_reports

ROOT = "root"
DUMP_DIRECTORY = "/benchdump"
INSERT_CHUNK = 10_000
_EPOCH = datetime(2012, 4, 1)
_LFN_DIRECTORY = "/lhcb/LHCb/Collision12/DST"


@dataclass(frozen=True)
class BenchDatabase:
    engine: Engine
    url: str
    root_password: str

    @property
    def backend(self) -> str:
        name = self.engine.dialect.name
        return "mariadb" if name in {"mysql", "mariadb"} else name


@contextmanager
def bench_database(settings: BenchSettings) -> Iterator[BenchDatabase]:
    """A database ready for the suite; a scratch one is dropped afterwards."""
    if settings.database_url:
        yield from _prepared(settings.database_url)
        return
    admin_url = server_url(settings.backend)
    if settings.backend != "sqlite" and admin_url is None:
        raise BenchDataError(
            f"benchmarking {settings.backend} needs --db URL or an admin URL in "
            f"BK_TEST_{'POSTGRES' if settings.backend == 'postgresql' else 'MARIADB'}_URL"
        )
    with scratch_database(settings.backend, admin_url) as scratch:
        yield from _prepared(scratch.url)


def _prepared(url: str) -> Iterator[BenchDatabase]:
    engine = create_engine(url, pool_size=20)
    try:
        metadata.create_all(engine)
        with engine.connect() as connection:
            if connection.scalar(sa.select(sa.func.count()).select_from(files_table)):
                raise BenchDataError(
                    "the benchmark database already holds files; give bk bench an empty "
                    "database (or none: a scratch database is made and dropped)"
                )
        yield BenchDatabase(engine, url, _root_password(engine))
    finally:
        engine.dispose()


def _root_password(engine: Engine) -> str:
    """The password protocol clients log in with: a new root user's, made up here, or the
    existing root's from ``BK_ROOT_PASSWORD`` (an existing user is never changed)."""
    with write_transaction(engine) as connection:
        stored = connection.execute(
            sa.select(users.c.password_hash).where(users.c.name == ROOT)
        ).first()
        if stored is None:
            password = secrets.token_urlsafe(12)
            connection.execute(
                users.insert(), {"name": ROOT, "password_hash": hash_password(password)}
            )
            return password
    given = os.environ.get("BK_ROOT_PASSWORD")
    if given is None or not verify_password(given, stored.password_hash):
        raise BenchDataError(
            "the database has a root user: set BK_ROOT_PASSWORD to its password so the "
            "benchmark's protocol clients can log in"
        )
    return given


def populate(engine: Engine, files: int, seed: int) -> dict[str, str]:
    """Record ``files`` generated files into each implementation. Returns, per
    implementation that could not record, why (the suite reports it as not available)."""
    unavailable: dict[str, str] = {}
    for backend in ("warehouse", "catalogue"):
        try:
            writer = open_writer(engine, backend)
            results = record_reports(writer, generate_reports(files, seed))
            failed = [r for r in results if r.status is not RecordStatus.RECORDED]
        except (BookkeepingError, ImportError) as exc:
            unavailable[backend] = f"{type(exc).__name__}: {exc}"
            continue
        if failed:
            unavailable[backend] = f"{len(failed)} reports not recorded: {failed[0].error}"
    analyse(engine)
    return unavailable


def analyse(engine: Engine) -> None:
    """Fresh planner statistics (and on PostgreSQL visibility maps) after bulk population,
    as a production server's autovacuum would keep them: the development server runs
    without autovacuum, and the warehouse's joins planned for empty tables are orders of
    magnitude slower than with statistics (docs/views.md, "Measured")."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    elif engine.dialect.name == "sqlite":
        with write_transaction(engine) as connection:  # ANALYZE writes sqlite_stat1
            connection.exec_driver_sql("ANALYZE")
    elif engine.dialect.name in {"mysql", "mariadb"}:
        # InnoDB samples statistics by itself, but only after 10% of a table changed and
        # in the background: a cold run right after population may plan without them.
        with engine.connect() as connection:
            preparer = engine.dialect.identifier_preparer
            for table in sa.inspect(connection).get_table_names():
                connection.exec_driver_sql(f"ANALYZE TABLE {preparer.quote(table)}").all()


# --- the files-shaped table for the dump ----------------------------------------------------

DUMP_COLUMNS = ("FILE_ID", "JOB_ID", "TYPE_ID", "LOGNAME", "CREATIONDATE", "VISIBLE")
_DUMP_TYPES = {
    "FILE_ID": "bigint",
    "JOB_ID": "bigint",
    "TYPE_ID": "int",
    "LOGNAME": "varchar(255)",
    "CREATIONDATE": "timestamp",
    "VISIBLE": "smallint",
}


def dump_table_name(rows: int) -> str:
    return f"bench_dump_{rows}"


def dump_directory(rows: int) -> str:
    return f"{DUMP_DIRECTORY}/n{rows}"


def dump_table(rows: int) -> sa.Table:
    """The warehouse side: the columns of the warehouse's ``files`` table."""
    return sa.Table(
        dump_table_name(rows),
        sa.MetaData(),
        sa.Column("file_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("job_id", sa.BigInteger, nullable=False),
        sa.Column("type_id", sa.Integer, nullable=False),
        sa.Column("logname", sa.String(255), nullable=False),
        sa.Column("creationdate", sa.DateTime, nullable=False),
        sa.Column("visible", sa.Boolean, nullable=False),
    )


def _dump_rows(rows: int) -> Iterator[dict[str, object]]:
    for file_id in range(1, rows + 1):
        job_id = 1 + file_id // 3
        yield {
            "file_id": file_id,
            "job_id": job_id,
            "type_id": 1 + file_id % 7,
            "logname": f"{_LFN_DIRECTORY}/{job_id:08d}/0000/{job_id:08d}_{file_id:08d}_1.dst",
            "creationdate": _EPOCH + timedelta(seconds=37 * file_id),
            "visible": file_id % 5 != 0,
        }


def build_dump_table(engine: Engine, catalogue: object | None, rows: int) -> None:
    """The same ``rows`` rows as a warehouse table and (with a catalogue) a directory."""
    table = dump_table(rows)
    table.create(engine, checkfirst=True)
    for chunk in chunked(_dump_rows(rows), INSERT_CHUNK):
        with write_transaction(engine) as connection:
            connection.execute(table.insert(), chunk)
    if catalogue is not None:  # the caller analyses once every size is built
        session = catalogue.session(ROOT)  # type: ignore[attr-defined]
        try:
            with contextlib.suppress(DirectoryExists):
                session.createdir(DUMP_DIRECTORY)
            directory = dump_directory(rows)
            session.createdir(directory)
            session.ensure_attributes(directory, _DUMP_TYPES)
            entries = (
                (str(row["file_id"]), {name: _catalogue_value(row, name) for name in DUMP_COLUMNS})
                for row in _dump_rows(rows)
            )
            session.addentries(directory, entries)
        finally:
            session.close()


def _catalogue_value(row: dict[str, object], attribute: str) -> object:
    value = row[attribute.lower()]
    return int(value) if isinstance(value, bool) else value
