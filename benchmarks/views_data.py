"""Populated bookkeeping databases for the view benchmarks, kept between runs.

Populating 10^6 files through the writers takes the better part of an hour on the shared
development machine, so each (back-end, size, seed) is populated once, through the writers
themselves (``WarehouseWriter`` and ``CatalogueWriter``, the latter keeping the views in
real time), and kept:

- SQLite: ``var/bench-cache/views-v<N>-<files>-s<seed>.sqlite`` (``BK_BENCH_CACHE_DIR``);
- PostgreSQL: a database ``bk_bench_views_v<N>_<files>_s<seed>`` on the server of
  ``BK_TEST_POSTGRES_URL``.

A database is populated under a temporary name and renamed when complete, so an
interrupted run leaves nothing that looks finished. Reuse brings the static schema to the
current Alembic head (new warehouse indexes are built on the cached data). Bump
``CACHE_VERSION`` when what the writers write changes; ``BK_BENCH_CACHE=0`` populates a
scratch database instead and drops it afterwards. Drop the cached databases with
``python -m benchmarks.views_data --drop``.

Populate ahead of a run (so the benchmark's own timeout never meets the population):
``python -m benchmarks.views_data --sizes 10000,100000,1000000 --databases sqlite,postgresql``
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bookkeeping import migrate
from bookkeeping.amga_adapter.bookkeeping import CatalogueWriter
from bookkeeping.amga_adapter.system_tables import users
from bookkeeping.config import normalise_database_url
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import RecordStatus
from bookkeeping.writer.service import record_reports

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
    """Schema at head, a root user, then ``files`` generated files through both writers."""
    migrate.upgrade(engine, "head")
    with write_transaction(engine) as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))
    for label, writer in (("warehouse", WarehouseWriter(engine)), ("catalogue", None)):
        started = time.monotonic()
        target = writer if writer is not None else CatalogueWriter(engine)
        done = analysed = 0
        for result in record_reports(target, generate_reports(files, seed), batch_size=BATCH):
            if result.status is not RecordStatus.RECORDED:
                raise RuntimeError(f"{label}: {result.source}: {result.error}")
            done += result.files
            if done - analysed >= ANALYZE_EVERY:
                analysed = done
                analyse(engine)
                if progress:
                    rate = done / (time.monotonic() - started)
                    print(f"  {label}: {done} files, {rate:.0f}/s", flush=True)
        if progress:
            print(f"  {label}: {files} files in {time.monotonic() - started:.0f} s", flush=True)


def analyse(engine: Engine) -> None:
    """Fresh planner statistics and, on PostgreSQL, visibility maps (what autovacuum keeps
    on a production server; index-only scans need them)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    elif engine.dialect.name == "sqlite":
        with write_transaction(engine) as connection:  # SQLite: ANALYZE writes sqlite_stat1
            connection.exec_driver_sql("ANALYZE")
    # MariaDB: InnoDB recalculates its persistent statistics by itself.


def _refreshed(url: str) -> str:
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "head")  # indexes added since the population are built now
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
                connection.exec_driver_sql(f'ALTER DATABASE "{partial}" RENAME TO "{final}"')
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
