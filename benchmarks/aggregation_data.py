"""A PostgreSQL bookkeeping for the aggregation benchmark, populated once and kept.

The search benchmark needs a response of about 10^5 files: half of the generated files are
visible, so ``FILES`` = 2 x 10^5 generated files go in through the warehouse writer's bulk
path (the catalogue is not needed: the aggregation reads through the interface and the
benchmark measures the cache). Kept as the database ``bk_bench_aggregation_<files>_s<seed>``
on the server of ``BK_TEST_POSTGRES_URL``, populated under a temporary name and renamed
when complete. Populate ahead of a run:
``python -m benchmarks.aggregation_data`` (prints the time it took).
"""

from __future__ import annotations

import secrets
import sys
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.views_data import BATCH, analyse
from bookkeeping import migrate
from bookkeeping.config import normalise_database_url
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import server_url
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import RecordStatus
from bookkeeping.writer.service import record_reports

FILES = 200_000
SEED = 1


def _admin_url() -> str:
    url = server_url("postgresql")
    if url is None:
        raise RuntimeError("the aggregation benchmark needs BK_TEST_POSTGRES_URL")
    return normalise_database_url(url)


def database_url(files: int = FILES, seed: int = SEED, *, progress: bool = False) -> str:
    """The kept database's URL (populated first if missing), schema at head."""
    admin_url = _admin_url()
    final = f"bk_bench_aggregation_{files}_s{seed}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": final}
            )
        if not exists:
            partial = f"{final}_partial_{secrets.token_hex(3)}"
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{partial}"')
            url = make_url(admin_url).set(database=partial).render_as_string(hide_password=False)
            try:
                _populate(url, files, seed, progress)
            except BaseException:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
                raise
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER DATABASE "{partial}" RENAME TO "{final}"')
    finally:
        admin.dispose()
    url = make_url(admin_url).set(database=final).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "head")
    finally:
        engine.dispose()
    return url


def _populate(url: str, files: int, seed: int, progress: bool) -> None:
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "head")
        started = time.monotonic()
        done = 0
        writer = WarehouseWriter(engine)
        for result in record_reports(writer, generate_reports(files, seed), batch_size=BATCH):
            if result.status is not RecordStatus.RECORDED:
                raise RuntimeError(f"{result.source}: {result.error}")
            done += result.files
            if progress and done % 20_000 < result.files:
                print(f"  {done} files, {done / (time.monotonic() - started):.0f}/s", flush=True)
        analyse(engine)
        if progress:
            print(f"  {files} files in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        engine.dispose()


if __name__ == "__main__":
    begun = time.monotonic()
    print(database_url(progress=True))
    print(f"ready in {time.monotonic() - begun:.0f} s", file=sys.stderr)
