"""Cost of turning AMGA query text into SQL: parsing (uncached, as for a condition seen
for the first time) and compiling a two-directory select with modifiers.

Run: ``.venv/bin/pytest benchmarks/test_query_bench.py --benchmark-only``
"""

from __future__ import annotations

import sqlalchemy as sa
from pytest_benchmark.fixture import BenchmarkFixture

from bookkeeping.amga_adapter.query import compile_select
from bookkeeping.amga_adapter.query.parser import _parse_uncached
from tests.query.catalogue import TableDirectory, TableResolver, directory_table

CONDITION = (
    '/bk/jobs:CONFIGNAME = "MC" and /bk/jobs:CONFIGVERSION in ("2008", "2009", "2010") '
    'and /bk/files:JOB_ID = /bk/jobs:JOB_ID and like(/bk/files:LOGNAME, "%.dst") '
    "and not (/bk/files:SIZE / 1024 < 10 or /bk/files:SIZE > 1e9) "
    "order by /bk/jobs:JOBDATE desc, /bk/files:FILE limit 100 offset 200"
)
ITEMS = ["/bk/files:FILE", "/bk/files:SIZE", "/bk/jobs:JOB_ID", "/bk/jobs:JOBDATE"]


def resolver() -> TableResolver:
    metadata = sa.MetaData()
    jobs = directory_table(
        metadata,
        "jobs",
        {
            "JOB_ID": sa.BigInteger(),
            "CONFIGNAME": sa.String(128),
            "CONFIGVERSION": sa.String(128),
            "JOBDATE": sa.DateTime(),
        },
    )
    files = directory_table(
        metadata,
        "files",
        {"JOB_ID": sa.BigInteger(), "LOGNAME": sa.String(128), "SIZE": sa.BigInteger()},
    )
    return TableResolver(
        {
            "/bk/jobs": TableDirectory("/bk/jobs", jobs),
            "/bk/files": TableDirectory("/bk/files", files),
        }
    )


def test_parse_condition_uncached(benchmark: BenchmarkFixture) -> None:
    benchmark(_parse_uncached, CONDITION, "start_condition")


def test_compile_select_two_directories(benchmark: BenchmarkFixture) -> None:
    tables = resolver()
    statement = benchmark(compile_select, ITEMS, CONDITION, tables)
    assert len(statement.get_final_froms()) == 1  # one join of both directories
