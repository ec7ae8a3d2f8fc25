"""PostgreSQL declarative partitioning as an alternative shard strategy for the views.

The views keep each combination's files in a catalogue directory of its own
(``/JobFileInfo<N>``, a table ``catd_<id>``) and read the matching ones with one
``selectattr_union`` (a UNION ALL of per-shard SELECTs). The alternative: one table of
all view files, ``LIST``-partitioned by combination key, read with one SELECT whose
``combination IN (...)`` prunes it to the matching partitions.

Both layouts hold the same rows, in a scratch copy (``CREATE DATABASE ... TEMPLATE``) of a
populated benchmark database (``benchmarks/views_data.py``): the partitioned table is
filled from the shard tables (``INSERT ... SELECT``). This module's DDL touches only that
copy, which is dropped afterwards; the catalogue engine has no partitioned directories, so
the experiment lives here. Each statement is compiled once and executed per round (the
database's work, not the query language's compilation, is compared):

- ``page``: the 100 largest files of a five-level dataset (``PATH``);
- ``config-page``: the same for a whole configuration (many more shards);
- ``totals``: per-shard count and sums of a configuration within a production range.

``indexed``: both layouts also get the index an ordered page can use,
``(FSIZ DESC NULLS LAST, FILE_ID)``, on every shard / as a partitioned index.

Run (PostgreSQL only):
``BK_BENCH_VIEW_SIZES=10000,100000,1000000 BK_TEST_POSTGRES_URL=... .venv/bin/pytest
benchmarks/test_views_partitioning_bench.py --benchmark-only``
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from benchmarks.test_views_bench import CONFIGURATION, PATH, SIZES
from benchmarks.views_data import analyse, populated_database
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.builder import Entry, matching_entries
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.resolver import SessionResolver
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.amga_adapter.query.union import compile_union
from bookkeeping.config import normalise_database_url
from bookkeeping.engines import create_engine
from bookkeeping.interface import DatasetPath
from bookkeeping.scratch import server_url

pytestmark = [
    pytest.mark.timeout(6 * 3600),
    pytest.mark.skipif(not server_url("postgresql"), reason="needs BK_TEST_POSTGRES_URL"),
]

_KEY = re.compile(r"^c[0-9a-f]{32}$")  # a combination key (layout.Combination.key)
PARTITIONED = "view_files"
COLUMNS = {name: name.lower() for name in V.SHARD_ATTRIBUTES}
ITEMS = ["FILE_ID", "FILNAM", "FSIZ", "NBEVT", "PRODUCTION", "RUN", "WRITDAT", "GUID"]
PRODUCTIONS = (0, 10**8)


@dataclass
class Layouts:
    engine: Engine
    session: CatalogueSession
    entries: dict[str, list[Entry]]  # "page" -> the entries of PATH, "config" -> CONFIGURATION


@contextmanager
def _scratch_copy(url: str) -> Iterator[str]:
    """A copy of the database at ``url`` (which nobody may be connected to), dropped after."""
    admin = sa.create_engine(
        normalise_database_url(server_url("postgresql") or ""),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
    )
    template = make_url(url).database
    name = f"bk_t_part_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _shard_columns(session: CatalogueSession, shard: str) -> dict[str, sa.ColumnElement]:
    with session.catalogue.engine.connect() as connection:
        info = session.core.directory(connection, shard)
    table = info.table
    return {name: table.c[info.attributes[name].column] for name in V.SHARD_ATTRIBUTES}


def _partitioned_table(metadata: sa.MetaData) -> sa.Table:
    types = {"bigint": sa.BigInteger(), "smallint": sa.SmallInteger(), "timestamp": sa.DateTime()}
    columns = [
        sa.Column(COLUMNS[name], types.get(kind, sa.String(255)))
        for name, kind in V.SHARD_ATTRIBUTES.items()
    ]
    return sa.Table(
        PARTITIONED,
        metadata,
        sa.Column("combination", sa.String(64), nullable=False),
        *columns,
        postgresql_partition_by="LIST (combination)",
    )


def _build_partitions(engine: Engine, session: CatalogueSession, entries: list[Entry]) -> None:
    """The partitioned table, one partition per combination, filled from its shard."""
    metadata = sa.MetaData()
    table = _partitioned_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as connection:
        for number, entry in enumerate(entries):
            if not _KEY.match(entry.key):  # partition bounds cannot be bound parameters
                raise ValueError(f"unexpected combination key {entry.key!r}")
            connection.exec_driver_sql(
                f'CREATE TABLE "{PARTITIONED}_{number}" PARTITION OF "{PARTITIONED}" '
                f"FOR VALUES IN ('{entry.key}')"
            )
            source = _shard_columns(session, entry.shard)
            select = sa.select(
                sa.literal(entry.key, sa.String(64)),
                *(source[name] for name in V.SHARD_ATTRIBUTES),
            )
            connection.execute(
                table.insert().from_select(["combination", *COLUMNS.values()], select)
            )


def _index(engine: Engine, session: CatalogueSession, entries: list[Entry]) -> None:
    """(FSIZ DESC NULLS LAST, FILE_ID): the order of a page by size, on both layouts."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f'CREATE INDEX "ix_{PARTITIONED}_fsiz" ON "{PARTITIONED}" '
            "(fsiz DESC NULLS LAST, file_id)"
        )
        for entry in entries:
            columns = _shard_columns(session, entry.shard)
            table = columns["FSIZ"].table
            sa.Index(
                f"ix_{table.name}_fsiz", columns["FSIZ"].desc().nulls_last(), columns["FILE_ID"]
            ).create(connection)


@pytest.fixture(
    scope="module",
    params=[(n, indexed) for n in SIZES for indexed in (False, True)],
    ids=lambda param: f"{param[0]}-{'indexed' if param[1] else 'plain'}",
)
def layouts(request: pytest.FixtureRequest) -> Iterator[tuple[Layouts, int, bool]]:
    files, indexed = request.param
    with populated_database("postgresql", files) as url:
        pass  # populated (and its engines disposed): it can serve as a template now
    with _scratch_copy(url) as copy:
        engine = create_engine(copy)
        session = Catalogue(engine).session("root")
        try:
            every = matching_entries(session, DatasetPath())
            _build_partitions(engine, session, every)
            if indexed:
                _index(engine, session, every)
            analyse(engine)
            entries = {
                "page": matching_entries(session, PATH),
                "config": matching_entries(session, CONFIGURATION),
            }
            yield Layouts(engine, session, entries), files, indexed
        finally:
            session.close()
            engine.dispose()


def _union(layouts: Layouts, entries: list[Entry], items: list[str], condition: str) -> sa.Select:
    with layouts.engine.connect() as connection:
        return compile_union(
            [e.shard for e in entries],
            items,
            condition,
            SessionResolver(layouts.session.core, connection),
            with_directory=True,
        )


def _statements(layouts: Layouts, query: str) -> tuple[sa.Select, sa.Select]:
    """(union over the shard tables, SELECT on the partitioned table) answering ``query``."""
    table = _partitioned_table(sa.MetaData())
    c = table.c
    entries = layouts.entries["page" if query == "page" else "config"]
    keys = [e.key for e in entries]
    if query == "totals":
        first, last = PRODUCTIONS
        union = _union(
            layouts,
            entries,
            ["count(FILE_ID)", "sum(NBEVT)", "sum(FSIZ)"],
            f"PRODUCTION >= {first} and PRODUCTION <= {last}",
        )
        partitioned = (
            sa.select(
                c.combination, sa.func.count(c.file_id), sa.func.sum(c.nbevt), sa.func.sum(c.fsiz)
            )
            .where(c.combination.in_(keys), c.production.between(first, last))
            .group_by(c.combination)
        )
        return union, partitioned
    union = _union(layouts, entries, ITEMS, "order by FSIZ desc, FILE_ID limit 100")
    partitioned = (
        sa.select(c.combination, *(c[COLUMNS[item]] for item in ITEMS))
        .where(c.combination.in_(keys))
        .order_by(c.fsiz.desc().nulls_last(), c.file_id)
        .limit(100)
    )
    return union, partitioned


@pytest.mark.parametrize("query", ["page", "config-page", "totals"])
@pytest.mark.parametrize("strategy", ["shard-directories", "partitioned-table"])
def test_shard_strategy(benchmark, layouts, strategy: str, query: str) -> None:  # type: ignore[no-untyped-def]
    found, files, indexed = layouts
    union, partitioned = _statements(found, query)
    statement = union if strategy == "shard-directories" else partitioned
    with found.engine.connect() as connection:
        # Same rows (shard path vs combination key aside): the comparison is fair.
        expected = sorted(tuple(row[1:]) for row in connection.execute(union))
        assert sorted(tuple(row[1:]) for row in connection.execute(partitioned)) == expected

        def run() -> int:
            return len(connection.execute(statement).all())

        benchmark.extra_info.update(
            files=files,
            indexed=indexed,
            shards=len(found.entries["page" if query == "page" else "config"]),
        )
        benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1)
