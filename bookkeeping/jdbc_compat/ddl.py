"""CREATE TABLE / DROP TABLE -> directories with typed attributes."""

from __future__ import annotations

import re

from sqlglot import exp

from bookkeeping.jdbc_compat.catalogue_types import catalogue_type
from bookkeeping.jdbc_compat.clauses import reject_unknown_args
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.plans import CreateTable, DropTable
from bookkeeping.jdbc_compat.schema import (
    ENTRY_NAME,
    CatalogueSchema,
    directory_path,
    find_table,
    reference,
)
from bookkeeping.jdbc_compat.scope import table_name, unsupported

_DIRECTORY_NAME = re.compile(r"[\w\-]+(\.[\w\-]+)*")


def translate_create(node: exp.Create, schema: CatalogueSchema) -> CreateTable | None:
    """The directory to create, or None for IF NOT EXISTS of an existing table."""
    if (node.args.get("kind") or "").upper() != "TABLE":
        raise NotSupportedError(f"CREATE {node.args.get('kind')} is not supported")
    reject_unknown_args(node, {"this", "kind", "exists"}, "CREATE TABLE")
    table_schema = node.this
    if not isinstance(table_schema, exp.Schema):
        raise NotSupportedError("CREATE TABLE needs a column list")
    name = table_name(table_schema.this, "CREATE TABLE")
    if not _DIRECTORY_NAME.fullmatch(name):
        raise NotSupportedError(f"table name {name!r} cannot be a catalogue directory name")
    if find_table(schema, name) is not None:
        if node.args.get("exists"):
            return None
        raise ProgrammingError(f"table {name} already exists")
    directory = directory_path(schema, name)
    attributes: list[tuple[str, str]] = []
    not_null: list[str] = []
    unique: list[tuple[str, ...]] = []
    for definition in table_schema.expressions:
        if isinstance(definition, exp.ColumnDef):
            column = _column(definition, directory, not_null, unique)
            if column.casefold() in {a.casefold() for a, _ in attributes}:
                raise ProgrammingError(f"duplicate column name: {column}")
            attributes.append((column, catalogue_type(definition.args["kind"])))
        elif isinstance(definition, exp.PrimaryKey | exp.UniqueColumnConstraint):
            columns = _key_columns(definition)
            unique.append(columns)
            if isinstance(definition, exp.PrimaryKey):
                not_null.extend(columns)
        else:
            raise unsupported(definition, "CREATE TABLE")
    known = {a.casefold(): a for a, _ in attributes}
    for key in [*not_null, *(c for group in unique for c in group)]:
        if key.casefold() not in known:
            raise ProgrammingError(f"constraint names an unknown column: {key}")
    return CreateTable(
        directory,
        tuple(attributes),
        not_null=tuple(dict.fromkeys(known[c.casefold()] for c in not_null)),
        unique=tuple(tuple(known[c.casefold()] for c in group) for group in unique),
    )


def _key_columns(constraint: exp.Expr) -> tuple[str, ...]:
    """The columns of a table-level PRIMARY KEY (a, b) / UNIQUE (a, b)."""
    terms = constraint.expressions
    if isinstance(constraint.this, exp.Schema):
        terms = constraint.this.expressions
    names = []
    for term in terms:
        node = term.this if isinstance(term, exp.Ordered) else term
        if not isinstance(node, exp.Identifier | exp.Column):
            raise unsupported(constraint, "CREATE TABLE")
        names.append(node.name)
    if not names:
        raise unsupported(constraint, "CREATE TABLE")
    return tuple(names)


def _column(
    definition: exp.ColumnDef,
    directory: str,
    not_null: list[str],
    unique: list[tuple[str, ...]],
) -> str:
    name = definition.name
    reference(directory, name)  # refuses names the query language cannot spell
    if name.upper() == ENTRY_NAME:
        raise NotSupportedError(f"column {name}: the name is the catalogue's entry name")
    if definition.args.get("kind") is None:
        raise NotSupportedError(f"column {name} needs a type")
    for constraint in definition.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.NotNullColumnConstraint):
            if not kind.args.get("allow_null"):
                not_null.append(name)
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            not_null.append(name)
            unique.append((name,))
        elif isinstance(kind, exp.UniqueColumnConstraint):
            unique.append((name,))
        else:
            raise unsupported(constraint, f"column {name}")
    return name


def translate_drop(node: exp.Drop, schema: CatalogueSchema) -> DropTable:
    if (node.args.get("kind") or "").upper() != "TABLE":
        raise NotSupportedError(f"DROP {node.args.get('kind')} is not supported")
    reject_unknown_args(node, {"this", "kind", "exists", "tables"}, "DROP TABLE")
    tables = node.args.get("tables") or [node.this]
    if len(tables) != 1:
        raise NotSupportedError("DROP TABLE of several tables: drop them one per statement")
    name = table_name(tables[0], "DROP TABLE")
    directory = find_table(schema, name)
    if directory is None and not node.args.get("exists"):
        raise ProgrammingError(f"no such table: {name}")
    return DropTable(directory)
