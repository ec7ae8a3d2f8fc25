"""Populated bookkeeping databases for the view benchmarks, kept between runs.

Each (back-end, size, seed) is populated once, through the writers themselves
(``WarehouseWriter`` and ``CatalogueWriter``, the latter keeping the views in real time),
and kept:

- SQLite: ``var/bench-cache/views-v<N>-<files>-s<seed>.sqlite`` (``BK_BENCH_CACHE_DIR``);
- PostgreSQL: a database ``bk_bench_views_v<N>_<files>_s<seed>`` on the server of
  ``BK_TEST_POSTGRES_URL``.

Cost on PostgreSQL (the shared development machine, 2 cores): 10^4 files 24-26 s at load
4, 10^5 files 2 min 45 s at load 4-5; 10^6 files ran at 1,300-1,400 files/s for the
warehouse at load 5, falling to ~450/s at load 11: 30-40 min on a quiet machine, well over
an hour on a busy one. Where the time goes (pyinstrument, 10^4 files, 26 s wall for 12 s
of our CPU: the rest waits on the server or for a core): catalogue 14 s, of which 8.4 s
schema preparation (each view combination's shard directory and its indexes: a fixed cost,
the combinations do not grow with the files) and 5.1 s writing (entries by COPY 2.0, views
1.4, building rows 0.8, look-ups 0.6); warehouse 6.6 s, of which COPY 4.3 s (3.0 s of it
the server keeping the indexes); the generator 2.0 s per pass, validation 1.2 s.

Both writers already send their rows by COPY (``bookkeeping/bulk.py``), one transaction
per batch, so loading the same rows by COPY outside the writers would save only the row
building and look-ups (about a quarter) for a second code path to keep identical. The
population saves what the writers do not need instead: one generator pass for both
writers, the writers in two threads (one's round trips overlap the other's work),
``ANALYZE`` without ``VACUUM`` while populating (``VACUUM`` once, at the end). The gain
could only be measured roughly on the busy machine: 10^4 files in 37 and 51 s against 39
and 78 s for the former population, alternating, load 8 rising to 19. Checked against the
former one-writer-after-the-other population at 10^4 files (``pg_dump --data-only`` of
both, rows compared per table): the warehouse tables are identical, row for row and in
order; the catalogue tables hold the same rows but for two things that differ between any
two runs of the writers: the writer's random token in the views' delta rows and the
numbering of a batch's new job parameters (a set's order: Python's string hashing).

A database is populated under a temporary name and renamed when complete, so an
interrupted run leaves nothing that looks finished. Reuse brings the static schema to the
current Alembic head (new warehouse indexes are built on the cached data) and folds the
copies of shard rows written before the views did (``bk views fold-copies``). Bump
``CACHE_VERSION`` when what the writers write changes; ``BK_BENCH_CACHE=0`` populates a
scratch database instead and drops it afterwards. Drop the cached databases with
``python -m benchmarks.views_data --drop``.

Populate ahead of a run (so the benchmark's own timeout never meets the population):
``python -m benchmarks.views_data --sizes 10000,100000,1000000 --databases sqlite,postgresql``
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bookkeeping import migrate
from bookkeeping.amga_adapter.bookkeeping import CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping.views.fold import fold_copies
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.root_directory import ensure_root_directory
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.config import normalise_database_url
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import JobReport, RecordStatus
from bookkeeping.writer.service import BatchWriter

CACHE_VERSION = 2  # 2: shards have their ordered indexes (views/layout.py SHARD_INDEXES)
SEED = 1
BATCH = 2000
# The development server runs without autovacuum: without fresh statistics the writers'
# lookups (and the benchmark's queries) are planned for empty tables.
ANALYZE_EVERY = 50_000
ROOT_DIRECTORY = Path(__file__).resolve().parent.parent


def _cache_enabled() -> bool:
    return os.environ.get("BK_BENCH_CACHE", "1") not in {"0", "no", "false"}


def _cache_dir() -> Path:
    return Path(os.environ.get("BK_BENCH_CACHE_DIR", ROOT_DIRECTORY / "var" / "bench-cache"))


def _name(files: int, seed: int) -> str:
    return f"bk_bench_views_v{CACHE_VERSION}_{files}_s{seed}"


def populate(engine: Engine, files: int, seed: int = SEED, *, progress: bool = False) -> None:
    """Schema at head with the catalogue's root directory, a root user, then ``files``
    generated files through both writers.

    The reports are generated once and each batch goes to both writers, like ``bk ingest``
    (``writer.service.ingest_files``) does; each writer records in a thread of its own, so
    one writer's round trips overlap the other's Python work (not on SQLite, which has one
    writer at a time: there they take turns, as they always did). Each writer still sees the
    same batches in the same order as when they ran one after the other (the two write
    disjoint tables and number from their own sequences), so the databases hold the same
    rows; ``bk views check`` and the benchmarks' dataset totals check the result.
    """
    migrate.upgrade(engine, "head")
    ensure_root_directory(engine)  # what bk init adds to the migrations
    with write_transaction(engine) as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))
    started = time.monotonic()
    lanes = [
        _Lane("warehouse", WarehouseWriter(engine), engine, started, progress),
        _Lane("catalogue", CatalogueWriter(engine), engine, started, progress),
    ]
    together = engine.dialect.name != "sqlite"
    for group in [lanes] if together else [[lane] for lane in lanes]:
        _feed(group, generate_reports(files, seed))
    for lane in lanes:
        if lane.error is not None:
            raise lane.error
        if progress:
            print(f"  {lane.label}: {lane.done} files in {lane.finished:.0f} s", flush=True)


def _feed(lanes: list[_Lane], reports: Iterator[JobReport]) -> None:
    """Each batch of ``reports`` to every lane; returns when the lanes are done."""
    for lane in lanes:
        lane.start()
    try:
        while batch := list(itertools.islice(reports, BATCH)):
            for lane in lanes:
                lane.put(batch)
    finally:
        for lane in lanes:
            lane.put(None)
        for lane in lanes:
            lane.join()


class _Lane(threading.Thread):
    """One writer recording the batches it is given, in order, until ``None``."""

    def __init__(
        self, label: str, writer: BatchWriter, engine: Engine, started: float, progress: bool
    ) -> None:
        super().__init__(name=f"populate-{label}", daemon=True)
        self.label, self.writer, self.engine = label, writer, engine
        self.started, self.progress = started, progress
        # A few batches of slack: the faster writer may run ahead, memory stays bounded.
        self.batches: queue.Queue[list[JobReport] | None] = queue.Queue(maxsize=4)
        self.done = 0
        self.finished = 0.0
        self.error: BaseException | None = None

    def put(self, batch: list[JobReport] | None) -> None:
        """Hand over a batch; gives up on a lane that failed (its error is raised later)."""
        while self.is_alive():
            try:
                self.batches.put(batch, timeout=1)
                return
            except queue.Full:
                continue
        if self.error is not None and batch is not None:
            raise RuntimeError(f"{self.label} failed") from self.error

    def run(self) -> None:
        analysed = 0
        try:
            while (batch := self.batches.get()) is not None:
                for result in self.writer.record_batch(batch):
                    if result.status is not RecordStatus.RECORDED:
                        raise RuntimeError(f"{self.label}: {result.source}: {result.error}")
                    self.done += result.files
                if self.done - analysed >= ANALYZE_EVERY:
                    analysed = self.done
                    analyse(self.engine, vacuum=False)
                    if self.progress:
                        rate = self.done / (time.monotonic() - self.started)
                        print(f"  {self.label}: {self.done} files, {rate:.0f}/s", flush=True)
        except BaseException as exc:  # handed to the generating thread
            self.error = exc
        self.finished = time.monotonic() - self.started


def analyse(engine: Engine, *, vacuum: bool = True) -> None:
    """Fresh planner statistics and, on PostgreSQL, visibility maps (what autovacuum keeps
    on a production server; index-only scans need them). While populating, statistics
    suffice (the writers' look-ups need them; ``VACUUM`` would rescan what was written
    since the last one and the whole database's indexes, once per 50,000 files)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if vacuum else "ANALYZE")
    elif engine.dialect.name == "sqlite":
        with write_transaction(engine) as connection:  # SQLite: ANALYZE writes sqlite_stat1
            connection.exec_driver_sql("ANALYZE")
    # MariaDB: InnoDB recalculates its persistent statistics by itself.


def _refreshed(url: str) -> str:
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "head")  # indexes added since the population are built now
        # Shard rows written before the views folded copies (``bk views fold-copies``):
        # the share would read their copies in the site directories instead.
        session = Catalogue(engine).session("root")
        try:
            folded = fold_copies(session)
        finally:
            session.close()
        if folded:
            print(f"  folded the copies of {folded} files", flush=True)
        analyse(engine)
    finally:
        engine.dispose()
    return url


def _sqlite(files: int, seed: int, progress: bool) -> str:
    directory = _cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{_name(files, seed)}.sqlite"
    if not final.exists():
        partial = directory / f"{_name(files, seed)}.{secrets.token_hex(4)}.partial"
        engine = create_engine(f"sqlite:///{partial}")
        try:
            populate(engine, files, seed, progress=progress)
        except BaseException:
            engine.dispose()
            partial.unlink(missing_ok=True)
            raise
        engine.dispose()
        os.replace(partial, final)
    return _refreshed(f"sqlite:///{final}")


def _postgresql(files: int, seed: int, progress: bool) -> str:
    admin_url = normalise_database_url(_admin_url())
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    final = _name(files, seed)
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": final}
            )
        if not exists:
            partial = f"{final}_partial_{secrets.token_hex(3)}"
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{partial}"')
            engine = create_engine(
                make_url(admin_url).set(database=partial).render_as_string(hide_password=False)
            )
            try:
                populate(engine, files, seed, progress=progress)
            except BaseException:
                engine.dispose()
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
                raise
            engine.dispose()
            with admin.connect() as connection:
                try:
                    connection.exec_driver_sql(f'ALTER DATABASE "{partial}" RENAME TO "{final}"')
                except sa.exc.ProgrammingError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "42P04":  # duplicate database
                        raise
                    # Another process populated the same database meanwhile: use theirs.
                    connection.exec_driver_sql(f'DROP DATABASE "{partial}" WITH (FORCE)')
    finally:
        admin.dispose()
    url = make_url(admin_url).set(database=final).render_as_string(hide_password=False)
    return _refreshed(url)


def _admin_url() -> str:
    url = server_url("postgresql")
    if url is None:
        raise RuntimeError("PostgreSQL benchmarks need BK_TEST_POSTGRES_URL")
    return url


@contextmanager
def populated_database(database: str, files: int, seed: int = SEED) -> Iterator[str]:
    """The URL of a database holding ``files`` generated files in both implementations."""
    if not _cache_enabled():
        with scratch_database(database, server_url(database)) as scratch:
            engine = create_engine(scratch.url)
            try:
                populate(engine, files, seed)
            finally:
                engine.dispose()
            yield scratch.url
        return
    if database == "sqlite":
        yield _sqlite(files, seed, progress=False)
    elif database == "postgresql":
        yield _postgresql(files, seed, progress=False)
    else:
        raise ValueError(f"no cached view benchmark databases on {database}")


def _drop_all() -> None:
    for path in _cache_dir().glob("bk_bench_views_*"):
        path.unlink()
        print(f"removed {path}")
    if server_url("postgresql") is None:
        return
    admin = sa.create_engine(
        normalise_database_url(_admin_url()), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    try:
        with admin.connect() as connection:
            names = connection.scalars(
                sa.text(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'bk\\_bench\\_views\\_%'"
                )
            ).all()
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                print(f"dropped database {name}")
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--drop", action="store_true", help="drop every cached database")
    arguments = parser.parse_args()
    if arguments.drop:
        _drop_all()
        return
    for database in arguments.databases.split(","):
        for files in (int(size) for size in arguments.sizes.split(",")):
            print(f"{database}, {files} files:", flush=True)
            started = time.monotonic()
            url = (_sqlite if database == "sqlite" else _postgresql)(
                files, arguments.seed, progress=True
            )
            print(f"  ready in {time.monotonic() - started:.0f} s: {url}", flush=True)


if __name__ == "__main__":
    main()
