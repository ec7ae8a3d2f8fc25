"""connect(): database URLs, open catalogues, amga:// URLs, base directories, credentials."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bookkeeping import jdbc_compat as driver
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from tests.jdbc_compat.conftest import ROOT_PASSWORD, _Fixture


def test_connect_with_a_database_url_owns_its_engine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bk.sqlite'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(users.insert(), [{"name": "root", "password_hash": hash_password("pw")}])
    engine.dispose()
    connection = driver.connect(url, password="pw")
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE runs (run INT)")
    cursor.execute("INSERT INTO runs VALUES (7)")
    connection.commit()
    connection.close()
    again = driver.connect(url)
    cursor = again.cursor()
    cursor.execute("SELECT run FROM runs")
    assert cursor.fetchall() == [(7,)]
    again.close()
    with pytest.raises(driver.OperationalError):
        driver.connect(url, password="wrong")
    # A user the catalogue does not know is a failed login too, trusted or not.
    for password in (None, "pw"):
        with pytest.raises(driver.OperationalError, match="nobody"):
            driver.connect(url, user="nobody", password=password)


def test_tables_live_under_the_base_directory(catalogue: Catalogue) -> None:
    session = catalogue.session("root")
    session.createdir("/sql")
    session.close()
    connection = driver.connect(catalogue, base_directory="/sql")
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE Runs (run INT)")
    cursor.execute("INSERT INTO runs VALUES (1)")  # names match case-insensitively
    connection.commit()
    session = catalogue.session("root")
    assert [name.rsplit("/", 1)[-1] for name, _kind in session.dir("/sql")] == ["Runs"]
    assert list(session.selectattr(["/sql/Runs:run"], "")) == [(1,)]
    session.close()
    connection.close()


def test_amga_url_path_is_the_base_directory(
    _catalogue_database: _Fixture, catalogue: Catalogue
) -> None:
    session = catalogue.session("root")
    session.createdir("/bk")
    session.close()
    port = _catalogue_database.server.server.port
    connection = driver.connect(f"amga://root:{ROOT_PASSWORD}@127.0.0.1:{port}/bk")
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE t (a INT)")
    cursor.execute("INSERT INTO t VALUES (5)")
    cursor.execute("SELECT a FROM t")
    assert cursor.fetchall() == [(5,)]
    connection.commit()
    connection.close()
    session = catalogue.session("root")
    assert list(session.selectattr(["/bk/t:a"], "")) == [(5,)]
    session.close()


def test_amga_wrong_password_is_an_operational_error(
    _catalogue_database: _Fixture, catalogue: Catalogue
) -> None:
    port = _catalogue_database.server.server.port
    connection = driver.connect(f"amga://root:nope@127.0.0.1:{port}/")
    try:
        with pytest.raises(driver.OperationalError):
            connection.cursor().execute("CREATE TABLE t (a INT)")
    finally:
        connection.close()


def test_amga_unknown_user_is_an_operational_error(
    _catalogue_database: _Fixture, catalogue: Catalogue
) -> None:
    port = _catalogue_database.server.server.port
    with pytest.raises(driver.OperationalError):
        connection = driver.connect(f"amga://nobody:pw@127.0.0.1:{port}/")
        try:
            connection.cursor().execute("CREATE TABLE t (a INT)")
        finally:
            connection.close()


def test_connect_refuses_what_is_not_a_dsn() -> None:
    with pytest.raises(driver.InterfaceError):
        driver.connect(42)  # type: ignore[arg-type]
    with pytest.raises(driver.InterfaceError):
        driver.connect("amga:///no-host")


def test_closing_a_connection_closes_the_results_left_unread(catalogue: Catalogue) -> None:
    """Rows left unread hold a database cursor, and on a server back-end a lock on their
    table, until their result set is closed: the connection's close() closes it, not the
    garbage collector (a test's teardown once waited 60 s on such a lock to drop a table)."""
    connection = driver.connect(catalogue)
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE runs (run INT)")
    cursor.executemany("INSERT INTO runs VALUES (?)", [(n,) for n in range(3000)])
    connection.commit()
    cursor.execute("SELECT run FROM runs")
    assert cursor.fetchone() is not None
    connection.close()  # the cursor stays referenced below: only close() can release it
    url = catalogue.engine.url.render_as_string(hide_password=False)
    impatient = create_engine(url, lock_timeout_s=1)
    released = cursor.closed
    try:
        Catalogue(impatient).session("root").rmdir("/runs", recursive=True)
    finally:
        impatient.dispose()
        # Should the check fail, the garbage collector releases the rows, or the teardown
        # dropping the test database would wait on their lock.
        del cursor
        gc.collect()
    assert released
