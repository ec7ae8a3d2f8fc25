"""INSERT / UPDATE / DELETE -> addentries, updateattr, find + rm (or, for what the query
language cannot say, a fetch filtered in Python followed by per-entry setattr/rm)."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence

from sqlglot import exp

from bookkeeping.jdbc_compat.clauses import conjuncts_of, reject_unknown_args
from bookkeeping.jdbc_compat.conditions import QueryLanguageWriter, parameter
from bookkeeping.jdbc_compat.evaluate import Evaluator, PythonCompiler
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.plans import (
    CatalogueQuery,
    DeleteEntries,
    InsertRows,
    RewriteEntries,
    UpdateEntries,
)
from bookkeeping.jdbc_compat.schema import ENTRY_NAME, ENTRY_TYPE, CatalogueSchema
from bookkeeping.jdbc_compat.scope import ResolvedColumn, Scope, table_name, unsupported


def translate_insert(
    node: exp.Insert, schema: CatalogueSchema, params: Sequence[object]
) -> InsertRows:
    reject_unknown_args(node, {"this", "expression"}, "INSERT")
    target = node.this
    named = isinstance(target, exp.Schema)
    table = target.this if named else target
    scope = Scope(schema, [exp.Table(this=exp.to_identifier(table_name(table, "INSERT")))])
    source = scope.sources[0]
    if named:
        names = [_identifier(column) for column in target.expressions]
    else:
        names = [name for name, _type in source.attributes]
    columns = []
    for name in names:
        column = source.attribute(name)
        if column is None:
            raise ProgrammingError(f"table {table.name} has no column named {name}")
        columns.append(column)
    if len(set(columns)) != len(columns):
        raise ProgrammingError("a column is named twice in the INSERT column list")
    values = node.expression
    if not isinstance(values, exp.Values):
        raise NotSupportedError("INSERT ... SELECT is not supported: insert VALUES")
    rows = []
    for row in values.expressions:
        cells = row.expressions if isinstance(row, exp.Tuple) else [row]
        if len(cells) != len(columns):
            raise ProgrammingError(
                f"INSERT has {len(columns)} columns but a row of {len(cells)} values"
            )
        rows.append(tuple(_value(cell, params) for cell in cells))
    slots = [i for i, c in enumerate(columns) if c.type_code == ENTRY_TYPE]
    return InsertRows(
        source.directory,
        tuple(c.attribute for c in columns),
        tuple(rows),
        name_slot=slots[0] if slots else None,
    )


def _identifier(node: exp.Expr) -> str:
    if isinstance(node, exp.Identifier | exp.Column):
        return node.name
    raise unsupported(node, "the INSERT column list")


def _value(node: exp.Expr, params: Sequence[object]) -> object:
    """A VALUES cell: a literal, a parameter, NULL, a signed number."""
    if isinstance(node, exp.Placeholder):
        value = parameter(node, params)
        # DB-API code binds Python booleans to integer columns (as sqlite3 stores them).
        return int(value) if isinstance(value, bool) else value
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return int(bool(node.this))
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        number = _value(node.this, params)
        if isinstance(number, int | decimal.Decimal):
            return -number
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        try:
            return int(node.this) if node.this.isdigit() else decimal.Decimal(node.this)
        except decimal.InvalidOperation:
            raise NotSupportedError(f"numeric literal {node.this!r}") from None
    raise unsupported(node, "VALUES (only literals and parameters can be inserted)")


def translate_update(
    node: exp.Update, schema: CatalogueSchema, params: Sequence[object]
) -> UpdateEntries | RewriteEntries:
    reject_unknown_args(node, {"this", "expressions", "where"}, "UPDATE")
    scope = Scope(schema, [node.this])
    assignments: list[tuple[ResolvedColumn, exp.Expr]] = []
    for assignment in node.expressions:
        if not isinstance(assignment, exp.EQ) or not isinstance(assignment.left, exp.Column):
            raise unsupported(assignment, "UPDATE ... SET")
        column = scope.column(assignment.left)
        if column.type_code == ENTRY_TYPE:
            raise NotSupportedError("UPDATE of FILE: entry names cannot be changed")
        assignments.append((column, assignment.right))
    conjuncts = _where(node)
    writer = QueryLanguageWriter(scope.column, params)
    directory = scope.sources[0].directory
    try:
        condition = " and ".join(writer.write(c) for c in conjuncts)
        texts = tuple((c.attribute, writer.write(value)) for c, value in assignments)
        return UpdateEntries(directory, texts, condition)
    except Untranslatable:
        pass
    query, compiler, keep = _candidates(scope, conjuncts, params)
    values = tuple((c.attribute, compiler.compile(value)) for c, value in assignments)
    return RewriteEntries(directory, query(), keep, values)


def translate_delete(
    node: exp.Delete, schema: CatalogueSchema, params: Sequence[object]
) -> DeleteEntries | RewriteEntries:
    reject_unknown_args(node, {"this", "where"}, "DELETE")
    scope = Scope(schema, [node.this])
    conjuncts = _where(node)
    writer = QueryLanguageWriter(scope.column, params)
    directory = scope.sources[0].directory
    try:
        return DeleteEntries(directory, " and ".join(writer.write(c) for c in conjuncts))
    except Untranslatable:
        pass
    query, _compiler, keep = _candidates(scope, conjuncts, params)
    return RewriteEntries(directory, query(), keep, None)


def _where(node: exp.Expr) -> list[exp.Expr]:
    where = node.args.get("where")
    conjuncts = conjuncts_of(where.this) if where is not None else []
    if any(c.find(exp.AggFunc) for c in conjuncts):
        raise ProgrammingError("aggregate functions are not allowed in WHERE")
    return conjuncts


def _candidates(
    scope: Scope, conjuncts: list[exp.Expr], params: Sequence[object]
) -> tuple[Callable[[], CatalogueQuery], PythonCompiler, Evaluator | None]:
    """The fetch of candidate entries (entry name first), its Python compiler and filter."""
    source = scope.sources[0]
    fetched: list[ResolvedColumn] = [ResolvedColumn(source.directory, ENTRY_NAME, ENTRY_TYPE)]

    def slot(column: ResolvedColumn) -> int:
        if column not in fetched:
            fetched.append(column)
        return fetched.index(column)

    writer = QueryLanguageWriter(scope.column, params)
    compiler = PythonCompiler(scope.column, slot, params)
    pushed, residual = [], []
    for conjunct in conjuncts:
        try:
            pushed.append(writer.write(conjunct))
        except Untranslatable:
            residual.append(conjunct)
    keep = compiler.compile(exp.and_(*residual)) if residual else None

    def query() -> CatalogueQuery:  # built last: compiling values may add columns
        return CatalogueQuery(
            tuple(c.ref for c in fetched), " and ".join(pushed), tuple(c.type_code for c in fetched)
        )

    return query, compiler, keep
