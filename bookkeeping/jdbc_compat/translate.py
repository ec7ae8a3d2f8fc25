"""One SQL statement and its parameters -> the catalogue operation that executes it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from bookkeeping.jdbc_compat.ddl import translate_create, translate_drop
from bookkeeping.jdbc_compat.dml import translate_delete, translate_insert, translate_update
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.kinds import shown
from bookkeeping.jdbc_compat.parsing import parse_statement
from bookkeeping.jdbc_compat.plans import Plan
from bookkeeping.jdbc_compat.schema import CatalogueSchema, views_of
from bookkeeping.jdbc_compat.select import translate_select
from bookkeeping.jdbc_compat.views import refuse_write


def translate(sql: str, params: Sequence[object], schema: CatalogueSchema) -> Plan | None:
    """The plan for ``sql`` with ``params`` bound (None: nothing to do)."""
    statement, count = parse_statement(sql)
    if isinstance(params, str | bytes) or not isinstance(params, Sequence):
        raise ProgrammingError("parameters must be a sequence (qmark paramstyle)")
    if len(params) != count:
        raise ProgrammingError(f"the statement has {count} parameters, {len(params)} were given")
    _refuse_subqueries(statement)
    if isinstance(statement, exp.Select):
        return translate_select(statement, schema, params)
    _refuse_view_targets(statement, schema)
    if isinstance(statement, exp.Insert):
        return translate_insert(statement, schema, params)
    if isinstance(statement, exp.Update):
        return translate_update(statement, schema, params)
    if isinstance(statement, exp.Delete):
        return translate_delete(statement, schema, params)
    if isinstance(statement, exp.Create):
        return translate_create(statement, schema)
    if isinstance(statement, exp.Drop):
        return translate_drop(statement, schema)
    raise NotSupportedError(f"{statement.key.upper()} statements are not supported")


def _refuse_view_targets(statement: exp.Expr, schema: CatalogueSchema) -> None:
    """Views are read-only: a write or DDL naming one would reach the directory behind it."""
    views = views_of(schema)
    if not views:
        return
    for table in statement.find_all(exp.Table):
        refuse_write(views, table.name, statement.key.upper())


def _refuse_subqueries(statement: exp.Expr) -> None:
    """A parenthesised SELECT anywhere but ``EXISTS (...)`` (which sqlglot does not wrap)."""
    for node in statement.find_all(exp.Subquery):
        parent = node.parent
        if isinstance(parent, exp.From | exp.Join):
            what = "a subquery in FROM (derived table)"
        elif isinstance(parent, exp.In):
            what = "IN with a subquery"
        else:
            what = "a scalar subquery"
        raise NotSupportedError(f"{what} is not supported: {shown(node)}")
