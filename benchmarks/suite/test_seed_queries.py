"""The seed's two queries, each through every path (seed 001, "Known problem"):

- a file's GUID by its file id: ``SELECT value FROM fileparams WHERE file_id=? AND name='GUID'``
  in the warehouse, one attribute of one entry in the catalogue;
- a file's size by its GUID: a self-join of ``fileParams`` in the warehouse, one lookup in
  the catalogue.

One measured call per round; the arguments cycle through files sampled from the data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.bench.callmix import Pools
from bookkeeping.bench.data import BenchDatabase
from bookkeeping.bench.paths import PathNotAvailable, open_path
from bookkeeping.warehouse.tables import file_params

QUERIES = ("guid_by_file_id", "size_by_guid")
PATHS = {
    "warehouse_sql": "warehouse SQL (Core statement)",
    "warehouse": "warehouse Bookkeeping",
    "catalogue": "catalogue Bookkeeping",
    "catalogue_engine": "catalogue engine selectattr",
    "protocol": "AMGA protocol client",
    "jdbc_compat": "jdbc_compat SQL",
}

_P1, _P2 = file_params.alias("p1"), file_params.alias("p2")
_GUID_SQL = sa.select(file_params.c.value).where(
    file_params.c.file_id == sa.bindparam("file_id"), file_params.c.name == "GUID"
)
_SIZE_SQL = sa.select(_P2.c.value).where(
    _P1.c.file_id == _P2.c.file_id,
    _P1.c.name == "GUID",
    _P1.c.value == sa.bindparam("guid"),
    _P2.c.name == "Size",
)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _query_function(
    path: str, query: str, database: BenchDatabase, request: pytest.FixtureRequest
) -> Callable[[int, str], Any]:
    """A function of (file_id, guid) answering ``query`` through ``path``."""
    by_id = query == "guid_by_file_id"
    if path == "warehouse_sql":
        engine = database.engine

        def direct(file_id: int, guid: str) -> Any:
            with engine.connect() as connection:
                if by_id:
                    return connection.execute(_GUID_SQL, {"file_id": file_id}).scalar()
                return connection.execute(_SIZE_SQL, {"guid": guid}).scalar()

        return direct
    if path in ("warehouse", "catalogue"):
        try:
            bookkeeping = open_path(path, database.engine)
        except PathNotAvailable as exc:
            pytest.skip(f"not available: {exc}")
        if by_id:
            return lambda file_id, guid: bookkeeping.file_parameter(file_id, "GUID")
        return lambda file_id, guid: bookkeeping.parameter_where("Size", "GUID", guid)
    item = "/fileParams:GUID" if by_id else "/fileParams:Size"

    def condition(file_id: int, guid: str) -> str:
        return (
            f"/fileParams:FILE_ID = {file_id}" if by_id else f"/fileParams:GUID = {_quoted(guid)}"
        )

    if path == "catalogue_engine":
        catalogue = request.getfixturevalue("catalogue")

        def engine_lookup(file_id: int, guid: str) -> Any:
            session = catalogue.session("root")
            try:
                return list(session.selectattr([item], condition(file_id, guid)))
            finally:
                session.close()

        return engine_lookup
    if path == "protocol":
        client = request.getfixturevalue("client")
        return lambda file_id, guid: client.selectAttr([item], condition(file_id, guid), sync=True)
    connection = request.getfixturevalue("connect_jdbc")("/")
    cursor = connection.cursor()
    sql = (
        "SELECT GUID FROM fileParams WHERE FILE_ID = ?"
        if by_id
        else "SELECT Size FROM fileParams WHERE GUID = ?"
    )

    def jdbc(file_id: int, guid: str) -> Any:
        cursor.execute(sql, (file_id if by_id else guid,))
        rows = cursor.fetchall()
        # A statement opens a transaction (on SQLite it holds the write lock): end it, as a
        # JDBC client in autocommit mode would.
        connection.commit()
        return rows

    return jdbc


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("query", QUERIES)
def test_seed_query(
    benchmark: Any,
    query: str,
    path: str,
    database: BenchDatabase,
    pools: Pools,
    unavailable: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    if not path.startswith("warehouse") and "catalogue" in unavailable:
        pytest.skip(f"not available: the catalogue holds no data ({unavailable['catalogue']})")
    function = _query_function(path, query, database, request)
    arguments = itertools.cycle([(record.file_id, record.guid) for record in pools.files])
    sizes = {record.guid: record.size for record in pools.files}
    answer = function(*next(arguments))  # warm-up, and a check that the path answers
    assert answer, f"{path} found nothing for {query}"
    benchmark(lambda: function(*next(arguments)))
    benchmark.extra_info.update(kind="seed_query", path=path, label=PATHS[path], query=query)
    assert sizes  # the sample is not empty
