"""Fixtures of the benchmark study: one database per run, populated once, shared by every
module so that all comparisons are measured on the same data in the same run.

Run through ``bk bench`` (which writes the report), or by hand:
``.venv/bin/pytest benchmarks/suite --benchmark-only`` with ``BK_BENCH_*`` variables
(``bookkeeping.bench.settings``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bookkeeping.bench.callmix import Pools, sample_pools
from bookkeeping.bench.data import DUMP_DIRECTORY, ROOT, BenchDatabase, bench_database, populate
from bookkeeping.bench.serving import server_process
from bookkeeping.bench.settings import BenchSettings, from_environment

SETTINGS = from_environment()


@pytest.fixture(scope="session")
def settings() -> BenchSettings:
    return SETTINGS


@pytest.fixture(scope="session")
def database(settings: BenchSettings) -> Iterator[BenchDatabase]:
    with bench_database(settings) as database:
        yield database


@pytest.fixture(scope="session")
def unavailable(database: BenchDatabase, settings: BenchSettings) -> dict[str, str]:
    """Populates the bookkeeping (both implementations); what could not be recorded."""
    return populate(database.engine, settings.files, settings.seed)


@pytest.fixture(scope="session")
def pools(database: BenchDatabase, unavailable: dict[str, str], settings: BenchSettings) -> Pools:
    if "warehouse" in unavailable:
        pytest.fail(f"the warehouse could not be populated: {unavailable['warehouse']}")
    return sample_pools(database.engine, settings.seed)


@pytest.fixture(scope="session")
def catalogue(database: BenchDatabase) -> Any:
    try:
        from bookkeeping.amga_adapter.engine.catalogue import Catalogue
    except ImportError as exc:
        pytest.skip(f"the catalogue engine is not in this build: {exc}")
    return Catalogue(database.engine)


@pytest.fixture(scope="session")
def server_port(catalogue: Any, database: BenchDatabase) -> Iterator[int]:
    """A protocol server in a process of its own, on the catalogue's database (the
    ``catalogue`` fixture is asked for so that an engine without it skips here)."""
    with server_process(database.url) as port:
        yield port


@pytest.fixture(scope="session")
def connect_client(server_port: int, database: BenchDatabase) -> Iterator[Callable[[], Any]]:
    """Opens protocol clients (logged in as root) and closes them at the end."""
    from bookkeeping.amga_adapter.client.client import MDClient

    opened: list[Any] = []

    def connect() -> Any:
        client = MDClient("127.0.0.1", server_port, ROOT, database.root_password)
        client.connect()
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture(scope="session")
def client(connect_client: Callable[[], Any]) -> Any:
    return connect_client()


@pytest.fixture(scope="session")
def connect_jdbc(catalogue: Any) -> Iterator[Callable[[str], Any]]:
    """Opens jdbc_compat connections on the in-process catalogue, by base directory."""
    try:
        from bookkeeping.jdbc_compat import connect as jdbc_connect
    except ImportError as exc:
        pytest.skip(f"jdbc_compat is not in this build: {exc}")
    opened: list[Any] = []

    def connect(base_directory: str = "/") -> Any:
        connection = jdbc_connect(catalogue, user=ROOT, base_directory=base_directory)
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        connection.close()


@pytest.fixture(scope="session")
def dump_jdbc(connect_jdbc: Callable[[str], Any]) -> Any:
    return connect_jdbc(DUMP_DIRECTORY)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The dump slopes and their ratios to the driver's, when dumps were measured."""
    from benchmarks.suite.test_table_dump import DUMP_MEDIANS
    from bookkeeping.bench.dump import slope_lines

    lines = slope_lines(DUMP_MEDIANS)
    if lines:
        terminalreporter.write_sep("-", "table dump slopes (least squares on the medians)")
        for line in lines:
            terminalreporter.write_line(line)
