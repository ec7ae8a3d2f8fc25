"""The tables of one statement and how its column references resolve to attributes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.schema import (
    ENTRY_NAME,
    ENTRY_TYPE,
    CatalogueSchema,
    match_name,
    reference,
    table_directory,
)


def unsupported(node: exp.Expression, context: str = "") -> NotSupportedError:
    """NotSupportedError naming the construct (its SQL text, shortened) and where it was."""
    text = node.sql(dialect="sqlite")
    if len(text) > 60:
        text = text[:57] + "..."
    where = f" in {context}" if context else ""
    return NotSupportedError(f"{node.key.upper()} is not supported{where}: {text}")


# The arguments an expression node may carry; anything else (BETWEEN SYMMETRIC, a negation
# flag we do not read, ...) changes its meaning, so it is refused rather than ignored.
_DEFAULT_ARGS = frozenset({"this", "expression"})
_NODE_ARGS: dict[type[exp.Expression], frozenset[str]] = {
    exp.Column: frozenset({"this", "table"}),
    exp.Literal: frozenset({"this", "is_string"}),
    exp.In: frozenset({"this", "expressions", "query", "unnest", "field"}),  # refused in _in
    exp.Like: frozenset({"this", "expression", "negate"}),
    exp.Between: frozenset({"this", "low", "high"}),
    # SQLite's dialect marks its division as typed (int/int is int) and safe (x/0 is NULL):
    # the catalogue's division follows the back-end, as documented.
    exp.Div: frozenset({"this", "expression", "typed", "safe"}),
    exp.Cast: frozenset({"this", "to", "_type"}),
    exp.Coalesce: frozenset({"this", "expressions"}),
    exp.Case: frozenset({"this", "ifs", "default"}),
    exp.If: frozenset({"this", "true"}),
    exp.DPipe: frozenset({"this", "expression", "safe"}),
}


def check_args(node: exp.Expression, context: str = "") -> None:
    """NotSupportedError when ``node`` carries an argument the translation would ignore."""
    allowed = _NODE_ARGS.get(type(node), _DEFAULT_ARGS)
    for key, value in node.args.items():
        if key not in allowed and value is not None and value is not False and value != []:
            raise unsupported(node, context)


@dataclass(frozen=True)
class ResolvedColumn:
    directory: str
    attribute: str
    type_code: str
    source: str = ""  # the table alias it came through (tells a self-join's sides apart)

    @property
    def ref(self) -> str:
        return reference(self.directory, self.attribute)


@dataclass(frozen=True)
class Source:
    name: str  # the alias, or the table name as written
    directory: str
    attributes: tuple[tuple[str, str], ...]

    def attribute(self, wanted: str) -> ResolvedColumn | None:
        types = dict(self.attributes)
        found = match_name(wanted, types)
        if found is not None:
            return ResolvedColumn(self.directory, found, types[found], self.name)
        if wanted.upper() == ENTRY_NAME:
            return ResolvedColumn(self.directory, ENTRY_NAME, ENTRY_TYPE, self.name)
        return None

    def columns(self) -> list[ResolvedColumn]:
        return [
            ResolvedColumn(self.directory, name, kind, self.name) for name, kind in self.attributes
        ]


def table_name(table: exp.Expression, context: str) -> str:
    """The plain table name of a FROM/INTO/UPDATE target, refusing anything fancier."""
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        raise unsupported(table, context)
    if table.args.get("db") or table.args.get("catalog"):
        raise NotSupportedError(f"schema-qualified table name {table.sql()!r} in {context}")
    for key, value in table.args.items():
        if key not in {"this", "alias"} and value:
            raise unsupported(table, context)
    return table.name


class Scope:
    def __init__(self, schema: CatalogueSchema, tables: list[exp.Expression]) -> None:
        self.sources: list[Source] = []
        for table in tables:
            name = table_name(table, "FROM")
            alias = table.args.get("alias")
            if alias is not None and alias.args.get("columns"):
                raise unsupported(alias, "FROM")
            directory = table_directory(schema, name)
            if any(source.name == table.alias_or_name for source in self.sources):
                raise ProgrammingError(f"table name {table.alias_or_name} is used twice")
            attributes = tuple(schema.attributes(directory))
            self.sources.append(Source(table.alias_or_name, directory, attributes))

    @property
    def repeats_a_directory(self) -> bool:
        """A self-join: the query language names each directory once, so Python joins."""
        directories = [source.directory for source in self.sources]
        return len(set(directories)) != len(directories)

    def source(self, name: str) -> Source:
        found = match_name(name, [source.name for source in self.sources])
        if found is None:
            raise ProgrammingError(f"no such table in this statement: {name}")
        return next(source for source in self.sources if source.name == found)

    def column(self, node: exp.Column) -> ResolvedColumn:
        if node.args.get("db") or node.args.get("catalog"):
            raise NotSupportedError(f"schema-qualified column {node.sql()!r}")
        if not isinstance(node.this, exp.Identifier):
            raise unsupported(node)
        name = node.name
        if node.table:
            found = self.source(node.table).attribute(name)
            if found is None:
                raise ProgrammingError(f"no such column: {node.table}.{name}")
            return found
        matches = [m for s in self.sources if (m := s.attribute(name)) is not None]
        if not matches:
            raise ProgrammingError(f"no such column: {name}")
        if len(matches) > 1:
            raise ProgrammingError(f"ambiguous column name: {name} (qualify it with its table)")
        return matches[0]

    def star(self, table: str | None = None) -> list[ResolvedColumn]:
        if table:
            return self.source(table).columns()
        return [column for source in self.sources for column in source.columns()]
