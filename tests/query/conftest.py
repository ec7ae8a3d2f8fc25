"""A populated two-directory catalogue on each back-end: /bk/jobs and /bk/files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.engines import create_engine
from bookkeeping.scratch import ScratchDatabase, scratch_database, server_url
from tests.conftest import BACKENDS

from .catalogue import TableDirectory, TableResolver, directory_table, fill

JOBS = [
    {
        "file": "job1",
        "JOB_ID": 1,
        "CONFIGNAME": "MC",
        "Order": 3,
        "Group": "b",
        "JOBDATE": dt.date(2024, 1, 5),
        "STARTED": dt.datetime(2024, 1, 5, 10, 30),
        "WINDOW": dt.time(8, 0),
    },
    {
        "file": "job2",
        "JOB_ID": 2,
        "CONFIGNAME": "MC",
        "Order": 1,
        "Group": "a",
        "JOBDATE": dt.date(2024, 2, 1),
        "STARTED": dt.datetime(2024, 2, 1, 23, 59, 59),
        "WINDOW": dt.time(22, 15),
    },
    {
        "file": "job3",
        "JOB_ID": 3,
        "CONFIGNAME": "Real",
        "Order": 2,
        "Group": None,
        "JOBDATE": None,
        "STARTED": dt.datetime(2024, 1, 5, 9, 0),
        "WINDOW": dt.time(9, 0),
    },
    {
        "file": "job4",
        "JOB_ID": 4,
        "CONFIGNAME": "mc",
        "Order": None,
        "Group": "B",
        "JOBDATE": dt.date(2023, 12, 31),
        "STARTED": None,
        "WINDOW": None,
    },
]
FILES = [
    {"file": "f1.dst", "JOB_ID": 1, "Size": 100, "Ratio": 0.5, "Name": "alpha", "Code": "10"},
    {"file": "f2.dst", "JOB_ID": 1, "Size": 250, "Ratio": 1.5, "Name": "Beta", "Code": "9"},
    {"file": "f3_x.raw", "JOB_ID": 2, "Size": 300, "Ratio": None, "Name": "gamma%", "Code": "abc"},
    {"file": "f4.raw", "JOB_ID": 3, "Size": None, "Ratio": 2.0, "Name": "al_pha", "Code": None},
    {"file": "f5.dst", "JOB_ID": 9, "Size": 50, "Ratio": 0.25, "Name": "ALPHA", "Code": "5"},
]


@dataclass
class Catalogue:
    engine: sa.Engine
    resolver: TableResolver
    jobs: sa.Table
    files: sa.Table

    def rows(self, statement: sa.Executable) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]

    def names(self, statement: sa.Executable) -> list[str]:
        return sorted(row[0] for row in self.rows(statement))


@pytest.fixture(scope="module", params=BACKENDS)
def shared_catalogue(request: pytest.FixtureRequest) -> Iterator[Catalogue]:
    """One populated database per back-end and test module, for tests that only read."""
    name: str = request.param
    with scratch_database(name, server_url(name)) as database:
        engine = create_engine(database.url)
        try:
            yield _populate(engine)
        finally:
            engine.dispose()


@pytest.fixture
def catalogue(shared_catalogue: Catalogue) -> Catalogue:
    """The shared catalogue with a resolver of its own (tests may swap directories)."""
    resolver = TableResolver(dict(shared_catalogue.resolver.directories), cwd="/bk")
    return replace(shared_catalogue, resolver=resolver)


@pytest.fixture
def fresh_catalogue(backend: ScratchDatabase) -> Iterator[Catalogue]:
    """A catalogue of its own, for tests that write."""
    engine = create_engine(backend.url)
    try:
        yield _populate(engine)
    finally:
        engine.dispose()


def _populate(engine: sa.Engine) -> Catalogue:
    metadata = sa.MetaData()
    jobs = directory_table(
        metadata,
        "jobs",
        {
            "JOB_ID": sa.Integer(),
            "CONFIGNAME": sa.String(128),
            "Order": sa.Integer(),
            "Group": sa.String(32),
            "JOBDATE": sa.Date(),
            "STARTED": sa.DateTime(),
            "WINDOW": sa.Time(),
        },
    )
    files = directory_table(
        metadata,
        "files",
        {
            "JOB_ID": sa.Integer(),
            "Size": sa.BigInteger(),
            "Ratio": sa.Double(),
            "Name": sa.String(64),
            "Code": sa.String(16),
        },
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        fill(connection, jobs, JOBS)
        fill(connection, files, FILES)
    resolver = TableResolver(
        {
            "/bk/jobs": TableDirectory("/bk/jobs", jobs),
            "/bk/files": TableDirectory("/bk/files", files),
        },
        cwd="/bk",
    )
    return Catalogue(engine, resolver, jobs, files)
