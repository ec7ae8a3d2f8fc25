"""Strings compare by code point even where a column's collation would not: a
case-insensitive column on MariaDB and SQLite, a locale-ordered one on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.amga_adapter.query import compile_select
from bookkeeping.engines import create_engine
from bookkeeping.scratch import ScratchDatabase

from .catalogue import TableDirectory, TableResolver, fill

LOOSE_COLLATION = {"sqlite": "NOCASE", "postgresql": "en-x-icu", "mariadb": "utf8mb4_general_ci"}
WORDS = ["apple", "Apple", "APPLE", "banana", "Banana", "b"]


def test_binary_semantics_whatever_the_column_collation(backend: ScratchDatabase) -> None:
    engine = create_engine(backend.url)
    try:
        metadata = sa.MetaData()
        table = sa.Table(
            "words",
            metadata,
            sa.Column("file", sa.String(32), primary_key=True),
            sa.Column("w", sa.String(32, collation=LOOSE_COLLATION[backend.backend])),
        )
        metadata.create_all(engine)
        with engine.begin() as connection:
            fill(connection, table, [{"file": f"e{i}", "w": w} for i, w in enumerate(WORDS)])
        resolver = TableResolver({"/words": TableDirectory("/words", table)})

        def select(items: list[str], condition: str) -> list[tuple[object, ...]]:
            statement = compile_select(items, condition, resolver, default_directory="/words")
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(statement)]

        assert select(["w"], 'w = "apple"') == [("apple",)]
        assert sorted(select(["w"], 'w in ("Apple", "b")')) == [("Apple",), ("b",)]
        assert select(["w"], 'like(w, "app%")') == [("apple",)]
        assert [row[0] for row in select(["w"], "order by w")] == sorted(WORDS)
        assert sorted(select(["w"], 'w < "a"')) == [("APPLE",), ("Apple",), ("Banana",)]
        assert select(["min(w)", "max(w)"], "") == [("APPLE", "banana")]
        assert select(["w", "count(FILE)"], 'w >= "b" order by w') == [("b", 1), ("banana", 1)]
    finally:
        engine.dispose()
