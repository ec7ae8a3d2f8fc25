"""``bk bench --db URL``: an empty database is prepared; anything else is refused unchanged."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.passwords import hash_password, verify_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.backends import open_writer
from bookkeeping.bench.data import bench_database
from bookkeeping.bench.errors import BenchDataError
from bookkeeping.bench.settings import from_environment
from bookkeeping.engines import write_transaction
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import ScratchDatabase
from bookkeeping.writer.service import record_reports


def _settings(url: str):  # noqa: ANN202
    return dataclasses.replace(from_environment({}), database_url=url)


def _root_hash(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.scalar(sa.select(users.c.password_hash).where(users.c.name == "root"))


def test_empty_database_gets_a_root_user_the_clients_can_log_in_as(
    backend: ScratchDatabase, engine: Engine
) -> None:
    with bench_database(_settings(backend.url)) as database:
        password = database.root_password
    assert verify_password(password, _root_hash(engine))


def test_database_holding_files_is_refused(backend: ScratchDatabase, engine: Engine) -> None:
    list(record_reports(open_writer(engine, "warehouse"), generate_reports(5, seed=1)))
    with pytest.raises(BenchDataError, match="already holds files"):
        with bench_database(_settings(backend.url)):
            pass


def test_existing_root_is_never_changed(
    backend: ScratchDatabase, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_transaction(engine) as connection:
        connection.execute(users.insert(), {"name": "root", "password_hash": hash_password("s")})
    before = _root_hash(engine)
    monkeypatch.delenv("BK_ROOT_PASSWORD", raising=False)
    with pytest.raises(BenchDataError, match="BK_ROOT_PASSWORD"):
        with bench_database(_settings(backend.url)):
            pass
    monkeypatch.setenv("BK_ROOT_PASSWORD", "s")
    with bench_database(_settings(backend.url)) as database:
        assert database.root_password == "s"
    assert _root_hash(engine) == before
