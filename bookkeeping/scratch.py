"""Throw-away databases with random names, for tests and benchmarks.

On PostgreSQL and MariaDB a scratch database is created on the server named by an admin URL
and dropped afterwards; on SQLite it is a file in a temporary directory. Random names keep
parallel runs apart; nothing is shared between two scratch databases.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bookkeeping.config import normalise_database_url
from bookkeeping.engines import backend_name

# Admin URLs of the servers used by the test-suite, by back-end name.
SERVER_URL_VARIABLES = {
    "postgresql": "BK_TEST_POSTGRES_URL",
    "mariadb": "BK_TEST_MARIADB_URL",
}


@dataclass(frozen=True)
class ScratchDatabase:
    backend: str  # "sqlite", "postgresql" or "mariadb"
    url: str


def server_url(backend: str) -> str | None:
    """The admin URL configured for ``backend`` in the environment, if any."""
    variable = SERVER_URL_VARIABLES.get(backend)
    return os.environ.get(variable) if variable else None


@contextmanager
def scratch_database(backend: str, admin_url: str | None = None) -> Iterator[ScratchDatabase]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bk-scratch-") as directory:
            yield ScratchDatabase("sqlite", f"sqlite:///{Path(directory) / 'scratch.sqlite'}")
        return
    if admin_url is None:
        raise ValueError(f"a scratch {backend} database needs an admin URL")
    admin_url = normalise_database_url(admin_url)
    if backend_name(admin_url) != backend:
        raise ValueError(f"admin URL {admin_url!r} is not a {backend} URL")
    name = f"bk_t_{secrets.token_hex(6)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as connection:
            if backend == "postgresql":
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                # Binary collation: string comparison is case- and accent-sensitive, as on
                # SQLite and PostgreSQL, so every back-end answers a query the same way.
                connection.exec_driver_sql(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )
        try:
            url = make_url(admin_url).set(database=name)
            yield ScratchDatabase(backend, url.render_as_string(hide_password=False))
        finally:
            with admin.connect() as connection:
                if backend == "postgresql":
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                else:
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.dispose()
