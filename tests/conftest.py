"""Test harness: every database test runs on SQLite, and on PostgreSQL and MariaDB when
``BK_TEST_POSTGRES_URL`` / ``BK_TEST_MARIADB_URL`` are set, each in a fresh scratch database.

With ``CI=true`` both URLs must be set and reachable: a missing server fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import SERVER_URL_VARIABLES, ScratchDatabase, scratch_database, server_url


def _server_backends() -> list[str]:
    return [name for name in SERVER_URL_VARIABLES if server_url(name)]


BACKENDS = ["sqlite", *_server_backends()]


def _check_servers() -> None:
    problems = []
    for backend, variable in SERVER_URL_VARIABLES.items():
        url = os.environ.get(variable)
        if not url:
            problems.append(f"{variable} is not set")
            continue
        engine = sa.create_engine(create_engine(url).url, poolclass=sa.NullPool)
        try:
            with engine.connect():
                pass
        except sa.exc.OperationalError as exc:
            problems.append(f"{backend} at {variable} is unreachable: {exc.orig}")
        finally:
            engine.dispose()
    if problems:
        raise pytest.UsageError("CI=true needs every database server: " + "; ".join(problems))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the fuzzers and properties with many more examples (tests/fuzzing.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--slow"):
        os.environ["BK_TEST_SLOW"] = "1"  # read by tests/fuzzing.py when modules are collected


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI", "").lower() == "true":
        _check_servers()


def pytest_report_header(config: pytest.Config) -> str:
    return "database back-ends under test: " + ", ".join(BACKENDS)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show how many tests ran on each back-end, so a run proves the servers were used."""
    counts: dict[str, dict[str, int]] = {name: {} for name in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for name in BACKENDS:
                if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid:
                    counts[name][outcome] = counts[name].get(outcome, 0) + 1
    terminalreporter.write_sep("-", "database tests per back-end")
    for name, outcomes in counts.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items()) or "none"
        terminalreporter.write_line(f"{name}: {summary}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[ScratchDatabase]:
    """A fresh, empty database on one back-end (parametrised over every configured one)."""
    name: str = request.param
    with scratch_database(name, server_url(name)) as database:
        yield database


@pytest.fixture
def engine(backend: ScratchDatabase) -> Iterator[Engine]:
    """An engine on a fresh database holding the whole static schema (from the metadata;
    the drift test proves it equals what the migrations build)."""
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
