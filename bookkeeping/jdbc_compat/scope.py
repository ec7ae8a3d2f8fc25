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
    views_of,
)
from bookkeeping.jdbc_compat.views import (
    NameValueTable,
    PartitionedTable,
    RenamedTable,
    View,
    find_view,
    view_directory,
)

# Node meta set by the view rewrite (pivot.py): a table that is this directory, and a column
# that is this attribute (bypassing SQL name matching, which a parameter named like a view
# column, e.g. ``Name``, would confuse).
DIRECTORY_META = "jdbc_directory"
ATTRIBUTE_META = "jdbc_attribute"

# ResolvedColumn.virtual: values a view computes rather than an attribute holds.
NAME, VALUE, PARTITION = "name", "value", "partition"


def unsupported(node: exp.Expr, context: str = "") -> NotSupportedError:
    """NotSupportedError naming the construct (its SQL text, shortened) and where it was."""
    text = node.sql(dialect="sqlite")
    if len(text) > 60:
        text = text[:57] + "..."
    where = f" in {context}" if context else ""
    return NotSupportedError(f"{node.key.upper()} is not supported{where}: {text}")


# The arguments an expression node may carry; anything else (BETWEEN SYMMETRIC, a negation
# flag we do not read, ...) changes its meaning, so it is refused rather than ignored.
_DEFAULT_ARGS = frozenset({"this", "expression"})
_NODE_ARGS: dict[type[exp.Expr], frozenset[str]] = {
    exp.Column: frozenset({"this", "table"}),
    exp.Literal: frozenset({"this", "is_string"}),
    exp.In: frozenset({"this", "expressions", "query", "unnest", "field"}),  # refused in _in
    exp.Like: frozenset({"this", "expression", "negate"}),
    exp.Between: frozenset({"this", "low", "high"}),
    # SQLite's dialect marks its division as typed (int / int is an integer, truncated
    # toward zero) and safe (x / 0 is NULL). The catalogue always divides as reals (NULL for
    # x / 0), so a division of two integers is computed in Python (conditions.py).
    exp.Div: frozenset({"this", "expression", "typed", "safe"}),
    exp.Cast: frozenset({"this", "to", "_type"}),
    exp.Coalesce: frozenset({"this", "expressions"}),
    exp.Case: frozenset({"this", "ifs", "default"}),
    exp.If: frozenset({"this", "true"}),
    exp.DPipe: frozenset({"this", "expression", "safe"}),
}


def check_args(node: exp.Expr, context: str = "") -> None:
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
    virtual: str = ""  # NAME, VALUE or PARTITION: computed by a view, no attribute holds it

    @property
    def ref(self) -> str:
        return reference(self.directory, self.attribute)


@dataclass(frozen=True)
class Source:
    name: str  # the alias, or the table name as written
    directory: str
    attributes: tuple[tuple[str, str], ...]  # (SQL column, type), in ``*`` order
    # SQL column -> attribute where they differ (a view), or -> "" for a virtual column
    renames: tuple[tuple[str, str], ...] = ()
    view: NameValueTable | PartitionedTable | None = None  # read by a Python fetch

    def attribute(self, wanted: str) -> ResolvedColumn | None:
        types = dict(self.attributes)
        found = match_name(wanted, types)
        if found is not None:
            renames = dict(self.renames)
            attribute = renames.get(found, found)
            if attribute:
                return ResolvedColumn(self.directory, attribute, types[found], self.name)
            return ResolvedColumn(
                self.directory, found, types[found], self.name, virtual=self._virtual(found)
            )
        if wanted.upper() == ENTRY_NAME:
            return ResolvedColumn(self.directory, ENTRY_NAME, ENTRY_TYPE, self.name)
        return None

    def _virtual(self, column: str) -> str:
        if isinstance(self.view, PartitionedTable):
            return PARTITION
        assert isinstance(self.view, NameValueTable)
        return NAME if column == self.view.name_column else VALUE

    def columns(self) -> list[ResolvedColumn]:
        found = [self.attribute(name) for name, _kind in self.attributes]
        return [column for column in found if column is not None]


def view_source(schema: CatalogueSchema, name: str, view: View) -> Source:
    """The source of a view table read as such (not rewritten by pivot.py)."""
    directory = view_directory(schema.base_directory, view)
    if isinstance(view, RenamedTable):
        types = dict(schema.attributes(directory))
        found: list[tuple[str, str]] = []
        for column, attribute in view.columns:
            if attribute not in types:
                raise ProgrammingError(f"view {name}: {directory} has no attribute {attribute}")
            found.append((column, types[attribute]))
        return Source(name, directory, tuple(found), tuple(view.columns))
    if isinstance(view, NameValueTable):
        key_column, key_attribute = view.key
        key_type = dict(schema.attributes(directory)).get(key_attribute)
        if key_type is None:
            raise ProgrammingError(f"view {name}: {directory} has no attribute {key_attribute}")
        attributes: tuple[tuple[str, str], ...] = (
            (key_column, key_type),
            (view.name_column, view.value_type),
            (view.value_column, view.value_type),
        )
        renames: tuple[tuple[str, str], ...] = (
            (key_column, key_attribute),
            (view.name_column, ""),
            (view.value_column, ""),
        )
        return Source(name, directory, attributes, renames, view)
    assert isinstance(view, PartitionedTable)
    attributes = ((view.partition_column, view.partition_type),) + tuple(
        (column, kind) for column, _attribute, kind in view.columns
    )
    renames = ((view.partition_column, ""),) + tuple(
        (column, attribute) for column, attribute, _kind in view.columns
    )
    return Source(name, directory, attributes, renames, view)


def table_name(table: exp.Expr, context: str) -> str:
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
    def __init__(
        self,
        schema: CatalogueSchema,
        tables: list[exp.Expr],
        outer: Scope | None = None,
    ) -> None:
        """``outer``: the enclosing statement's scope, for a correlated subquery."""
        self.schema = schema
        self.outer = outer
        self.sources: list[Source] = []
        views = views_of(schema)
        for table in tables:
            name = table_name(table, "FROM")
            alias = table.args.get("alias")
            if alias is not None and alias.args.get("columns"):
                raise unsupported(alias, "FROM")
            if any(source.name == table.alias_or_name for source in self.sources):
                raise ProgrammingError(f"table name {table.alias_or_name} is used twice")
            directory = table.meta.get(DIRECTORY_META)
            view = None if directory else find_view(views, name)
            if view is not None:
                self.sources.append(view_source(schema, table.alias_or_name, view))
                continue
            directory = directory or table_directory(schema, name)
            attributes = tuple(schema.attributes(directory))
            self.sources.append(Source(table.alias_or_name, directory, attributes))

    @property
    def repeats_a_directory(self) -> bool:
        """A self-join: the query language names each directory once, so Python joins."""
        directories = [source.directory for source in self.sources]
        return len(set(directories)) != len(directories)

    @property
    def has_python_source(self) -> bool:
        """A table only Python can read (a name/value view unfolded, a partitioned view)."""
        return any(source.view is not None for source in self.sources)

    def source(self, name: str) -> Source:
        found = match_name(name, [source.name for source in self.sources])
        if found is None:
            raise ProgrammingError(f"no such table in this statement: {name}")
        return next(source for source in self.sources if source.name == found)

    def has_source(self, name: str) -> bool:
        return match_name(name, [source.name for source in self.sources]) is not None

    def column(self, node: exp.Column) -> ResolvedColumn:
        if node.args.get("db") or node.args.get("catalog"):
            raise NotSupportedError(f"schema-qualified column {node.sql()!r}")
        if not isinstance(node.this, exp.Identifier):
            raise unsupported(node)
        name = node.name
        attribute = node.meta.get(ATTRIBUTE_META)
        if attribute is not None:
            source = self.source(node.table)
            kind = dict(self.schema.attributes(source.directory)).get(attribute)
            if kind is None:
                raise ProgrammingError(f"no such attribute: {source.directory}:{attribute}")
            return ResolvedColumn(source.directory, attribute, kind, source.name)
        if node.table:
            if self.outer is not None and not self.has_source(node.table):
                return self.outer.column(node)
            found = self.source(node.table).attribute(name)
            if found is None:
                raise ProgrammingError(f"no such column: {node.table}.{name}")
            return found
        matches = [m for s in self.sources if (m := s.attribute(name)) is not None]
        if not matches and self.outer is not None:
            return self.outer.column(node)
        if not matches:
            raise ProgrammingError(f"no such column: {name}")
        if len(matches) > 1:
            raise ProgrammingError(f"ambiguous column name: {name} (qualify it with its table)")
        return matches[0]

    def star(self, table: str | None = None) -> list[ResolvedColumn]:
        if table:
            return self.source(table).columns()
        return [column for source in self.sources for column in source.columns()]
