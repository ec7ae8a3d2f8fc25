"""Self-joins and LEFT JOINs, which the query language cannot say (it names a directory once
and joins inner only): every table is fetched with one ``selectattr`` holding the conditions
that concern it alone, the rows are joined in Python (hash joins on the equalities of each ON
clause), and the usual pipeline finishes the statement.

A WHERE term about one table is pushed into that table's fetch unless the table is the
NULL-supplying side of a LEFT JOIN (there it must see the NULLs the join adds); an ON term
about the joined table alone filters that table before the join, which is the same for inner
and left joins.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from bookkeeping.jdbc_compat import plans
from bookkeeping.jdbc_compat.clauses import JoinStep
from bookkeeping.jdbc_compat.conditions import QueryLanguageWriter
from bookkeeping.jdbc_compat.evaluate import Evaluator, PythonCompiler
from bookkeeping.jdbc_compat.exceptions import NotSupportedError
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.schema import ENTRY_NAME
from bookkeeping.jdbc_compat.scope import ResolvedColumn
from bookkeeping.jdbc_compat.select import SelectStatement


class _Columns:
    """The joined row's layout: one slot per column used, in first-use order."""

    def __init__(self) -> None:
        self.columns: list[ResolvedColumn] = []

    def slot(self, column: ResolvedColumn) -> int:
        if column not in self.columns:
            self.columns.append(column)
        return self.columns.index(column)


def _sources_of(term: exp.Expression, statement: SelectStatement) -> set[str]:
    subquery = term.find(exp.Select)
    if subquery is not None:
        raise NotSupportedError(f"subqueries are not supported: {term.sql()[:60]}")
    return {statement.scope.column(c).source for c in term.find_all(exp.Column)}


def join_in_python(statement: SelectStatement, steps: list[JoinStep]) -> plans.JoinRows:
    scope = statement.scope
    layout = _Columns()
    compiler = PythonCompiler(scope.column, layout.slot, statement.params)
    writer = QueryLanguageWriter(scope.column, statement.params)
    names = [source.name for source in scope.sources]
    pushed: dict[str, list[str]] = {name: [] for name in names}
    nullable = {names[step.index] for step in steps if step.outer}

    def push(term: exp.Expression, source: str) -> bool:
        try:
            pushed[source].append(writer.write(term))
        except Untranslatable:
            return False
        return True

    residual = []
    for term in statement.conjuncts:  # the WHERE terms (ON terms stay with their join)
        sources = _sources_of(term, statement)
        only = next(iter(sources)) if len(sources) == 1 else None
        if only is None or only in nullable or not push(term, only):
            residual.append(term)
    join_steps = [_step(step, names, statement, compiler, push) for step in steps]
    pipeline = statement.pipeline(compiler, residual)
    for source in scope.sources:  # every table yields rows, even if none of its columns is used
        if not any(column.source == source.name for column in layout.columns):
            layout.slot(scope.column(exp.column(ENTRY_NAME, source.name)))
    fetches = []
    for source in scope.sources:
        positions = [i for i, c in enumerate(layout.columns) if c.source == source.name]
        columns = [layout.columns[i] for i in positions]
        query = plans.CatalogueQuery(
            tuple(c.ref for c in columns),
            " and ".join(pushed[source.name]),
            tuple(c.type_code for c in columns),
        )
        fetches.append(plans.SourceFetch(query, tuple(positions)))
    return plans.JoinRows(
        tuple(fetches), tuple(join_steps), len(layout.columns), statement._columns(), pipeline
    )


def _step(
    step: JoinStep,
    names: list[str],
    statement: SelectStatement,
    compiler: PythonCompiler,
    push: Callable[[exp.Expression, str], bool],
) -> plans.JoinStep:
    joined = names[step.index]
    earlier = set(names[: step.index])
    left_keys: list[Evaluator] = []
    right_keys: list[Evaluator] = []
    others = []
    for term in step.on:
        sources = _sources_of(term, statement)
        if sources == {joined} and push(term, joined):
            continue
        sides = _equality_sides(term, statement, joined, earlier)
        if sides is not None:
            left_keys.append(compiler.compile(sides[0]))
            right_keys.append(compiler.compile(sides[1]))
        else:
            others.append(term)
    condition = compiler.compile(exp.and_(*others)) if others else None
    return plans.JoinStep(step.index, step.outer, tuple(left_keys), tuple(right_keys), condition)


def _equality_sides(
    term: exp.Expression, statement: SelectStatement, joined: str, earlier: set[str]
) -> tuple[exp.Expression, exp.Expression] | None:
    """(earlier side, joined side) of ``a.x = b.y`` joining ``joined`` to earlier tables."""
    if not isinstance(term, exp.EQ):
        return None
    left, right = term.left, term.right
    if not isinstance(left, exp.Column) or not isinstance(right, exp.Column):
        return None
    left_source = statement.scope.column(left).source
    right_source = statement.scope.column(right).source
    if left_source == joined and right_source in earlier:
        return right, left
    if right_source == joined and left_source in earlier:
        return left, right
    return None
