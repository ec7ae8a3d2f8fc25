"""Property: on random directories and random conditions, the compiled SQL returns on every
back-end exactly what the pure-Python evaluator says the query means.

Strings are ASCII letters and digits (no spaces: MariaDB's PAD SPACE collations ignore
trailing spaces, see docs/query-language.md); numbers are small enough never to overflow.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.query import compile_find, compile_select
from bookkeeping.amga_adapter.query.evaluate import Directory, evaluate_find, evaluate_select
from bookkeeping.engines import create_engine
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS

from .catalogue import TableDirectory, TableResolver, directory_table

SCHEMAS: dict[str, dict[str, type]] = {
    "/d/a": {"x": int, "y": float, "s": str, "Order": int},
    "/d/b": {"x": int, "z": float, "t": str},
}
SQL_TYPES = {int: sa.BigInteger(), float: sa.Double(), str: sa.String(16)}
CWD = "/d"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Database:
    engine: sa.Engine
    tables: dict[str, sa.Table]
    resolver: TableResolver

    def load(self, data: dict[str, list[dict[str, Any]]]) -> None:
        with self.engine.begin() as connection:
            for path, table in self.tables.items():
                connection.execute(table.delete())
                if data[path]:
                    connection.execute(table.insert(), data[path])

    def rows(self, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    name: str = request.param
    with scratch_database(name, server_url(name)) as scratch:
        engine = create_engine(scratch.url)
        metadata = sa.MetaData()
        tables = {
            path: directory_table(
                metadata,
                path.rsplit("/", 1)[1],
                {attribute: SQL_TYPES[type_] for attribute, type_ in schema.items()},
            )
            for path, schema in SCHEMAS.items()
        }
        metadata.create_all(engine)
        resolver = TableResolver(
            {path: TableDirectory(path, table) for path, table in tables.items()}, cwd=CWD
        )
        try:
            yield Database(engine, tables, resolver)
        finally:
            engine.dispose()


def resolve(raw: str) -> str:
    return posixpath.normpath(posixpath.join(CWD, raw))


# -- data ---------------------------------------------------------------------------------

TEXT = st.text(alphabet="aAbB0z", max_size=3)
# NULL in about one value of four
VALUES = {
    int: st.one_of(st.none(), *[st.integers(-4, 4)] * 3),
    float: st.one_of(
        st.none(), *[st.sampled_from([-2.5, -1.0, 0.0, 0.1, 0.5, 1.0, 2.25, 3.0])] * 3
    ),
    str: st.one_of(st.none(), *[TEXT] * 3),
}


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    data = {}
    for path, schema in SCHEMAS.items():
        count = draw(st.integers(0, 4) | st.integers(2, 5))
        prefix = path.rsplit("/", 1)[1]
        data[path] = [
            {
                "file": f"{prefix}{i}",
                **{name: draw(VALUES[type_]) for name, type_ in schema.items()},
            }
            for i in range(count)
        ]
    return data


def directories(data: dict[str, list[dict[str, Any]]]) -> dict[str, Directory]:
    return {
        path: Directory(
            path,
            SCHEMAS[path],
            [
                {"FILE": row["file"], **{k: v for k, v in row.items() if k != "file"}}
                for row in rows
            ],
        )
        for path, rows in data.items()
    }


# -- conditions ---------------------------------------------------------------------------

SPELLINGS = {"/d/a": ["/d/a:{}", "a:{}", "{}"], "/d/b": ["/d/b:{}", "b:{}", "../d/b:{}"]}


def refs(kind: type) -> st.SearchStrategy[str]:
    options = [
        (path, name)
        for path, schema in SCHEMAS.items()
        for name, type_ in schema.items()
        if type_ is kind or (kind is float and type_ is int)
    ]
    if kind is str:
        options += [(path, "FILE") for path in SCHEMAS]
    return st.sampled_from(options).flatmap(
        lambda option: st.sampled_from(SPELLINGS[option[0]]).map(lambda s: s.format(option[1]))
    )


NUMBER_LITERALS = st.integers(-4, 4).map(str) | st.sampled_from(
    ["0.5", "-1.5", "2.25", "0.1", '"3"', "'-2'"]
)
STRING_LITERALS = (
    TEXT.map(lambda s: f'"{s}"') | TEXT.map(lambda s: f"'{s}'") | st.integers(0, 9).map(str)
)

numbers = st.recursive(
    refs(float) | NUMBER_LITERALS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda e: f"-{e}" if not e.startswith("-") else f"-({e})"),
    ),
    max_leaves=4,
)
strings = refs(str) | st.builds(
    lambda f, r: f"{f}({r})", st.sampled_from(["lower", "upper"]), refs(str)
)
COMPARISONS = st.sampled_from(["=", "!=", "<>", "<", ">", "<=", ">="])
PATTERNS = st.text(alphabet="aAb0%_", max_size=4).map(lambda s: f'"{s}"')

predicates = st.one_of(
    st.tuples(numbers, COMPARISONS, numbers).map(" ".join),
    st.tuples(
        refs(float), st.sampled_from(["/", "*", "-"]), refs(float), COMPARISONS, NUMBER_LITERALS
    ).map(" ".join),
    st.tuples(refs(float), COMPARISONS, NUMBER_LITERALS).map(" ".join),
    st.tuples(strings, COMPARISONS, strings | STRING_LITERALS).map(" ".join),
    st.builds(
        lambda r, neg, items: f"{r} {neg}in ({', '.join(items)})",
        refs(float),
        st.sampled_from(["", "not "]),
        st.lists(NUMBER_LITERALS | refs(float), min_size=1, max_size=3),
    ),
    st.builds(
        lambda r, neg, items: f"{r} {neg}in ({', '.join(items)})",
        refs(str),
        st.sampled_from(["", "not "]),
        st.lists(STRING_LITERALS, min_size=1, max_size=3),
    ),
    st.builds(lambda r, p: f"like({r}, {p})", refs(str), PATTERNS),
    st.builds(
        lambda r, neg: f"{r} is {neg}null", refs(float) | refs(str), st.sampled_from(["", "not "])
    ),
    st.builds(lambda r, p: f"{r} not like {p}", refs(str), PATTERNS),
)
conditions = st.recursive(
    predicates,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or", "AND", "Or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda c: f"not ({c})"),
    ),
    max_leaves=5,
)
ORDER_KEYS = ["/d/a:x", "/d/a:y desc", "/d/a:s", "/d/a:Order desc", "/d/b:t", "/d/b:z"]


@st.composite
def selects(draw: st.DrawFn) -> tuple[list[str], str]:
    items = draw(st.lists(numbers | strings, min_size=1, max_size=3))
    condition = draw(st.none() | conditions) or ""
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(ORDER_KEYS), max_size=2, unique=True))
        # the entry names make the order total, so limit and offset are deterministic
        condition += " order by " + ", ".join([*keys, "/d/a:FILE", "/d/b:FILE"])
        if draw(st.booleans()):
            condition += f" limit {draw(st.integers(0, 6))}"
        if draw(st.booleans()):
            condition += f" offset {draw(st.integers(0, 4))}"
        items += ["/d/a:FILE", "/d/b:FILE"]  # every ordered-by directory takes part
    elif draw(st.booleans()):
        condition += " distinct"
        if draw(st.booleans()):
            # distinct rows differ somewhere, so ordering by every item is a total order
            directions = draw(
                st.lists(st.sampled_from(["", " desc"]), min_size=len(items), max_size=len(items))
            )
            condition += " order by " + ", ".join(
                i + d for i, d in zip(items, directions, strict=True)
            )
    return items, condition


@st.composite
def aggregate_selects(draw: st.DrawFn) -> tuple[list[str], str]:
    group = draw(
        st.lists(st.sampled_from(["/d/a:s", "/d/a:x", "lower(/d/b:t)"]), max_size=2, unique=True)
    )
    aggregates = draw(
        st.lists(
            st.sampled_from(
                [
                    "count(/d/a:FILE)",
                    "count(/d/b:z)",
                    "min(/d/a:s)",
                    "max(/d/b:t)",
                    "sum(/d/a:x)",
                    "sum(/d/b:z)",
                    "avg(/d/a:Order)",
                    "max(/d/a:y * 2)",
                ]
            ),
            min_size=1,
            max_size=3,
        )
    )
    condition = draw(st.none() | conditions) or ""
    if group:
        condition += " order by " + ", ".join(group)
    return [*group, *aggregates], condition


# -- comparison ---------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = float(value)
        return 0.0 if number == 0 else float(f"{number:.10g}")
    return value


def normalised(rows: list[tuple[Any, ...]], ordered: bool) -> list[tuple[Any, ...]]:
    rows = [tuple(normalise(value) for value in row) for row in rows]
    if ordered:
        return rows
    return sorted(
        rows,
        key=lambda row: [(v is None, isinstance(v, str), v if v is not None else 0) for v in row],
    )


@SETTINGS
@given(data=datasets(), query=selects())
def test_select_agrees_with_the_evaluator(
    database: Database, data: dict[str, list[dict[str, Any]]], query: tuple[list[str], str]
) -> None:
    items, condition = query
    database.load(data)
    statement = compile_select(items, condition, database.resolver, default_directory="a")
    expected = evaluate_select(items, condition, directories(data), resolve, default_directory="a")
    ordered = "order by" in condition
    event("non-empty result" if expected else "empty result")
    assert normalised(database.rows(statement), ordered) == normalised(expected, ordered)


@SETTINGS
@given(data=datasets(), query=aggregate_selects())
def test_aggregates_agree_with_the_evaluator(
    database: Database, data: dict[str, list[dict[str, Any]]], query: tuple[list[str], str]
) -> None:
    items, condition = query
    database.load(data)
    statement = compile_select(items, condition, database.resolver, default_directory="a")
    expected = evaluate_select(items, condition, directories(data), resolve, default_directory="a")
    event("non-empty result" if expected else "empty result")
    ordered = "order by" in condition  # by every grouped item: one row per group, a total order
    assert normalised(database.rows(statement), ordered) == normalised(expected, ordered)


@SETTINGS
@given(data=datasets(), condition=st.none() | conditions, limit=st.none() | st.integers(0, 4))
def test_find_agrees_with_the_evaluator(
    database: Database,
    data: dict[str, list[dict[str, Any]]],
    condition: str | None,
    limit: int | None,
) -> None:
    text = condition or ""
    if limit is not None:
        text += f" order by x desc, FILE limit {limit}"
    database.load(data)
    statement = compile_find("a", text, database.resolver)
    expected = evaluate_find("a", text, directories(data), resolve)
    found = [row[0] for row in database.rows(statement)]
    assert found == expected if limit is not None else sorted(found) == sorted(expected)


def test_float_noise_is_normalised_but_values_are_not() -> None:
    assert normalise(0.1 + 0.2) == normalise(0.3)
    assert normalise(Decimal("1.5")) == 1.5 and normalise(2) == 2.0
    assert normalise(1.0) != normalise(1.001)
    assert math.isclose(normalise(1 / 3), 1 / 3, rel_tol=1e-9)
