"""Dumping a whole files-shaped table through each access path (seed 001, Figure 9).

Every function reads every row of the ``rows``-row table and returns how many it read, so a
benchmark can check that nothing was skipped. The "JDBC" path of the seed is the raw driver
cursor; the "AMGA client" path is the protocol client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.bench.data import DUMP_COLUMNS, DUMP_DIRECTORY, dump_directory, dump_table
from bookkeeping.bench.results import LIMITED
from bookkeeping.bench.stats import fit_line

FETCH = 1000


@dataclass(frozen=True)
class DumpPath:
    name: str
    label: str
    needs: str  # "engine", "catalogue", "client" or "jdbc"


DUMP_PATHS = (
    DumpPath("driver", "driver cursor (JDBC path)", "engine"),
    DumpPath("core", "SQLAlchemy Core", "engine"),
    DumpPath("catalogue", "catalogue engine", "catalogue"),
    DumpPath("protocol", "AMGA protocol client", "client"),
    DumpPath("jdbc_compat", "jdbc_compat (SQL on the catalogue)", "jdbc"),
)


def dump_driver(engine: Engine, rows: int) -> int:
    table = dump_table(rows)
    preparer = engine.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(column.name) for column in table.columns)
    sql = f"SELECT {columns} FROM {preparer.quote(table.name)}"  # our own generated names
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        count = 0
        while batch := cursor.fetchmany(FETCH):
            count += len(batch)
        cursor.close()
        return count
    finally:
        connection.close()


def dump_core(engine: Engine, rows: int) -> int:
    table = dump_table(rows)
    count = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=FETCH).execute(
            sa.select(table)
        )
        for partition in result.partitions():
            count += len(partition)
    return count


def _items(rows: int) -> list[str]:
    directory = dump_directory(rows)
    return [f"{directory}:{column}" for column in DUMP_COLUMNS]


def dump_catalogue(catalogue: Any, rows: int) -> int:
    session = catalogue.session("root")
    try:
        return sum(1 for _ in session.selectattr(_items(rows), ""))
    finally:
        session.close()


def dump_protocol(client: Any, rows: int) -> int:
    client.selectAttr(_items(rows), "")
    count = 0
    while not client.eot():
        client.getSelectAttrEntry()
        count += 1
    return count


def dump_jdbc(connection: Any, rows: int) -> int:
    table = dump_directory(rows).removeprefix(DUMP_DIRECTORY + "/")
    cursor = connection.cursor()
    cursor.execute(f"SELECT {', '.join(DUMP_COLUMNS)} FROM {table}")
    count = 0
    while batch := cursor.fetchmany(FETCH):
        count += len(batch)
    cursor.close()
    connection.commit()  # end the statement's transaction, as autocommit would
    return count


DUMPERS: dict[str, Callable[[Any, int], int]] = {
    "driver": dump_driver,
    "core": dump_core,
    "catalogue": dump_catalogue,
    "protocol": dump_protocol,
    "jdbc_compat": dump_jdbc,
}


def dump_rounds(rows: int) -> int:
    """Measured rounds at ``rows`` (one warm-up round comes on top)."""
    return max(1, min(5, 200_000 // rows))


WARMUP_ROUNDS = 1


@dataclass
class DumpBudget:
    """Keeps a run's time bounded: a path is not dumped at a size whose estimated time
    (its mean at the largest size measured so far, scaled by rows, times the rounds and
    the warm-up) exceeds ``seconds``, nor at any larger size. Sizes must come in ascending
    order per path."""

    seconds: float
    measured: dict[str, tuple[int, float]] = field(default_factory=dict)  # path -> rows, s
    limited: dict[str, str] = field(default_factory=dict)  # path -> why

    def record(self, path: str, rows: int, mean_seconds: float) -> None:
        self.measured[path] = (rows, mean_seconds)

    def refusal(self, path: str, rows: int) -> str | None:
        """Why ``path`` is not measured at ``rows`` (starting with ``LIMITED``), or None."""
        if path in self.limited:
            return self.limited[path]
        if path not in self.measured:
            return None
        measured_rows, seconds = self.measured[path]
        estimate = seconds * rows / measured_rows * (dump_rounds(rows) + WARMUP_ROUNDS)
        if estimate <= self.seconds:
            return None
        self.limited[path] = (
            f"{LIMITED} {rows:,} rows and beyond: {seconds:.1f} s per dump of "
            f"{measured_rows:,} rows makes about {estimate:,.0f} s at {rows:,} (rounds and "
            f"warm-up included), over the {self.seconds:,.0f} s budget (BK_BENCH_DUMP_BUDGET)"
        )
        return self.limited[path]


def slope_lines(medians: dict[str, dict[int, float]]) -> list[str]:
    """Each path's slope in µs/row, fitted on its median seconds per size, and its ratio to
    the driver cursor's: what a hand run of the dump benchmark prints at the end, so that
    the ratio the issue targets comes out of one command (the report fits the means)."""
    slopes = {
        path: fit_line(sorted(by_rows), [by_rows[n] for n in sorted(by_rows)]).slope
        for path, by_rows in medians.items()
        if len(by_rows) >= 2
    }
    base = slopes.get("driver")
    lines = []
    for path, slope in slopes.items():
        sizes = ", ".join(f"{n:,}" for n in sorted(medians[path]))
        ratio = f", {slope / base:.2f}× the driver's" if base else ""
        lines.append(f"{path}: {slope * 1e6:.2f} µs/row (medians at {sizes} rows){ratio}")
    return lines
