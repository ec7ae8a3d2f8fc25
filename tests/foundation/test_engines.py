from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.engines import backend_name, create_engine, write_transaction
from bookkeeping.scratch import ScratchDatabase


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            raise RuntimeError("abort")
        assert not sa.inspect(engine).has_table("t")
    finally:
        engine.dispose()


def test_engine_round_trips_on_every_backend(backend: ScratchDatabase) -> None:
    engine = create_engine(backend.url)
    try:
        assert backend_name(engine) == backend.backend
        with engine.connect() as connection:
            assert connection.execute(sa.select(sa.literal(41) + 1)).scalar() == 42
    finally:
        engine.dispose()


def test_write_transaction_rolls_back_on_error(engine: Engine) -> None:
    table = sa.Table("cat_groups", sa.MetaData(), autoload_with=engine)
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        connection.execute(table.insert().values(name="physicists"))
        raise RuntimeError("abort")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


def test_concurrent_writers_all_commit(engine: Engine) -> None:
    table = sa.Table("cat_groups", sa.MetaData(), autoload_with=engine)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                with write_transaction(engine) as connection:
                    connection.execute(table.insert().values(name=f"g{worker}-{i}"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 40


def test_unsupported_url_is_refused_before_connecting() -> None:
    from bookkeeping.errors import ConfigError

    with pytest.raises(ConfigError, match="unsupported database URL scheme 'mssql"):
        create_engine("mssql+pyodbc://u@h/db")


def test_ddl_behind_an_open_transaction_fails_instead_of_hanging(
    backend: ScratchDatabase,
) -> None:
    if backend.backend == "sqlite":
        pytest.skip("SQLite bounds lock waits with its busy timeout (tested above)")
    engine = create_engine(backend.url, lock_timeout_s=1)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE held (x INTEGER)")
        with engine.connect() as reader, reader.begin():
            reader.exec_driver_sql("SELECT count(*) FROM held").scalar()  # holds a shared lock
            with pytest.raises(sa.exc.OperationalError), engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE held ADD COLUMN y INTEGER")
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("held")}
        assert columns == {"x"}
    finally:
        engine.dispose()
