"""One meaning on every back-end for the catalogue's attribute types: what is stored reads
back the same on SQLite, PostgreSQL and MariaDB, and compares the same in a query.

``float`` is AMGA's type on its reference back-end, PostgreSQL, where ``float`` is double
precision: an IEEE-754 double everywhere (MariaDB's ``FLOAT`` is four bytes and rounded
``0.1`` to ``0.10000000149011612``). Timestamps and times keep their microseconds
(MariaDB's ``DATETIME``/``TIME`` without a precision drop them).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bookkeeping import migrate
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.root_directory import ensure_root_directory
from bookkeeping.amga_adapter.engine.system_tables import attributes, directories
from bookkeeping.engines import create_engine
from bookkeeping.scratch import ScratchDatabase
from tests.fuzzing import fuzz_settings
from tests.protocol.conftest import _new_catalogue

FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TIMESTAMPS = st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31))
TIMES = st.times()
_NAMES = itertools.count()


@pytest.fixture
def session(engine: Engine) -> Any:
    catalogue = _new_catalogue(engine)
    root = catalogue.session("root")
    root.createdir("/typed")
    for name, kind in [("f", "float"), ("d", "double"), ("ts", "timestamp"), ("t", "time")]:
        root.addattr("/typed", name, kind)
    try:
        yield root
    finally:
        root.close()


@fuzz_settings(ci=15, slow=500)
@given(values=st.lists(st.tuples(FLOATS, FLOATS, TIMESTAMPS, TIMES), min_size=1, max_size=5))
def test_floats_timestamps_and_times_read_back_exactly_on_every_back_end(
    session: Any, values: list[tuple[float, float, dt.datetime, dt.time]]
) -> None:
    names = []
    for f, d, ts, t in values:
        name = f"e{next(_NAMES)}"
        names.append(name)
        # -0.0 is 0.0 in every comparison; a back-end may keep either sign.
        session.addentry(f"/typed/{name}", {"f": f, "d": d, "ts": ts, "t": t})
    stored = dict(session.getattr("/typed/*", ["f", "d", "ts", "t"]))
    for name, (f, d, ts, t) in zip(names, values, strict=True):
        assert stored[name] == [f, d, ts, t], name
        # The same value found by equality: the column holds what the query compares with.
        found = list(session.find("/typed", f"f = {f!r} and ts = '{ts.isoformat(sep=' ')}'"))
        assert f"/typed/{name}" in found, (f, ts)


def test_the_upgrade_widens_the_columns_of_an_existing_mariadb_catalogue(
    backend: ScratchDatabase,
) -> None:
    """Migration 0016 on a catalogue whose columns were made before the fix (FLOAT, DATETIME
    and TIME without microseconds, as the engine made them then)."""
    if backend.backend != "mariadb":
        pytest.skip("only MySQL and MariaDB had the narrower columns")
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "0014")
        ensure_root_directory(engine)
        catalogue = _new_catalogue(engine)
        root = catalogue.session("root")
        root.createdir("/old")
        for name, kind in [("f", "float"), ("ts", "timestamp"), ("t", "time"), ("n", "int")]:
            root.addattr("/old", name, kind)
        old = {"f": "FLOAT", "ts": "DATETIME", "t": "TIME"}
        with engine.begin() as connection:
            for name, sql_type in old.items():
                table, column = _column_of(connection, "/old", name)
                connection.exec_driver_sql(
                    f"ALTER TABLE `{table}` MODIFY COLUMN `{column}` {sql_type} NULL"
                )
        assert _column_types(engine, "/old") == {"f": "float", "ts": "datetime", "t": "time",
                                                 "n": "int(11)"}  # fmt: skip
        migrate.upgrade(engine, "head")
        assert _column_types(engine, "/old") == {"f": "double", "ts": "datetime(6)",
                                                 "t": "time(6)", "n": "int(11)"}  # fmt: skip
        root = Catalogue(engine).session("root")  # a new process: nothing cached
        moment = dt.datetime(2026, 12, 7, 17, 0, 0, 123456)
        root.addentry("/old/e", {"f": 0.1, "ts": moment, "t": moment.time(), "n": 1})
        assert dict(root.getattr("/old/e", ["f", "ts", "t"]))["e"] == [0.1, moment, moment.time()]
        root.close()
    finally:
        engine.dispose()


def _column_of(connection: sa.Connection, directory: str, name: str) -> tuple[str, str]:
    found = connection.execute(
        sa.select(directories.c.id, attributes.c.id)
        .join(attributes, attributes.c.directory_id == directories.c.id)
        .where(directories.c.path == directory, attributes.c.name == name)
    ).one()
    return f"catd_{found[0]}", f"a{found[1]}"


def _column_types(engine: Engine, directory: str) -> dict[str, str]:
    with engine.connect() as connection:
        types = {}
        for name in ("f", "ts", "t", "n"):
            table, column = _column_of(connection, directory, name)
            types[name] = connection.execute(
                sa.text(
                    "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                    " DATABASE() AND TABLE_NAME = :t AND COLUMN_NAME = :c"
                ),
                {"t": table, "c": column},
            ).scalar_one()
        return {name: kind.split(" ")[0].lower() for name, kind in types.items()}
