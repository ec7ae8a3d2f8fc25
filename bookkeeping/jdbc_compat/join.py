"""Joins the query language cannot say, computed in Python: self-joins (it names a
directory once), LEFT JOINs (it joins inner only) and the views only Python reads.

The statement's *core* - the FROM table and every table INNER JOINed to it on conditions
about the core alone, each directory once - is read by one ``selectattr``: the catalogue
joins and filters it. Every other table is read on its own (with the conditions that concern
it alone) when its turn comes, restricted to the keys the rows joined so far hold when they
are few (``fetch.py``), and hash-joined on the equalities of its ON clause; then the usual
pipeline finishes the statement.

A WHERE term about one part is pushed into that part's fetch unless a table in it is the
NULL-supplying side of a LEFT JOIN (there it must see the NULLs the join adds); an ON term
about the joined table alone filters that table before the join, which is the same for inner
and left joins. An inner join's ON terms are WHERE terms, so the core's go with the WHERE's.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from bookkeeping.jdbc_compat import plans
from bookkeeping.jdbc_compat.clauses import JoinStep
from bookkeeping.jdbc_compat.conditions import QueryLanguageWriter
from bookkeeping.jdbc_compat.evaluate import Evaluator, PythonCompiler
from bookkeeping.jdbc_compat.exceptions import NotSupportedError
from bookkeeping.jdbc_compat.fetch import Layout, build_fetch
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.schema import ENTRY_NAME
from bookkeeping.jdbc_compat.scope import ResolvedColumn, Scope
from bookkeeping.jdbc_compat.statement import SelectStatement
from bookkeeping.jdbc_compat.types import base_type

_INTEGERS = frozenset({"int", "integer", "bigint", "smallint"})
_TEXTS = frozenset({"varchar", "varchar2", "char", "text"})


def sources_of(term: exp.Expr, scope: Scope) -> set[str]:
    subquery = term.find(exp.Select)
    if subquery is not None:
        raise NotSupportedError(f"subqueries are not supported here: {term.sql()[:60]}")
    return {scope.column(c).source for c in term.find_all(exp.Column)}


def _core(scope: Scope, steps: list[JoinStep]) -> set[int]:
    """The sources one ``selectattr`` reads: the FROM table and the tables INNER JOINed on
    conditions about these alone, each directory once, none read by Python only."""
    first = scope.sources[0]
    core = {0}
    if first.view is not None:
        return core
    names = {first.name}
    directories = {first.directory}
    for step in steps:
        source = scope.sources[step.index]
        if step.outer or source.view is not None or source.directory in directories:
            continue
        used = set().union(*(sources_of(term, scope) for term in step.on))
        if used <= names | {source.name}:
            core.add(step.index)
            names.add(source.name)
            directories.add(source.directory)
    return core


def join_in_python(statement: SelectStatement, steps: list[JoinStep]) -> plans.JoinRows:
    scope = statement.scope
    layout = Layout()
    compiler = statement.python_compiler(scope.column, layout.slot)
    writer = QueryLanguageWriter(scope.column, statement.params)
    names = [source.name for source in scope.sources]
    core = _core(scope, steps)
    parts = [sorted(core)] + [[step.index] for step in steps if step.index not in core]
    part_of = {names[i]: p for p, members in enumerate(parts) for i in members}
    pushed: list[list[exp.Expr]] = [[] for _ in parts]
    nullable = {names[step.index] for step in steps if step.outer}

    def push(term: exp.Expr, part: int) -> bool:
        try:
            writer.write(term)
        except Untranslatable:
            return False
        pushed[part].append(term)
        return True

    residual = []
    core_on = [term for step in steps if step.index in core for term in step.on]
    for term in statement.conjuncts + core_on:
        if term.find(exp.Select) is not None:  # EXISTS: a semi-join over the joined rows
            residual.append(term)
            continue
        sources = sources_of(term, scope)
        used = {part_of[source] for source in sources}
        if len(used) == 1 and not sources & nullable and push(term, used.pop()):
            continue
        residual.append(term)
    join_steps = []
    for step in steps:
        if step.index not in core:
            earlier = {names[i] for members in parts[: part_of[names[step.index]]] for i in members}
            join_steps.append(
                _step(step, part_of, earlier, scope, compiler, lambda t, p: push(t, p))
            )
    pipeline = statement.pipeline(compiler, residual)
    for source in scope.sources:  # every table yields rows, even if none of its columns is used
        if not any(column.source == source.name for column in layout.columns):
            layout.slot(scope.column(exp.column(ENTRY_NAME, source.name)))
    fetches = tuple(
        build_fetch(
            [scope.sources[i] for i in members],
            layout,
            pushed[p],
            writer,
            scope,
            statement.params,
        )
        for p, members in enumerate(parts)
    )
    return plans.JoinRows(
        fetches,
        tuple(join_steps),
        len(layout.columns),
        statement._columns(),
        pipeline,
        tuple(statement.semijoins),
    )


def _step(
    step: JoinStep,
    part_of: dict[str, int],
    earlier: set[str],
    scope: Scope,
    compiler: PythonCompiler,
    push: Callable[[exp.Expr, int], bool],
) -> plans.JoinStep:
    joined = scope.sources[step.index].name
    left_keys: list[Evaluator] = []
    right_keys: list[Evaluator] = []
    restrict: list[tuple[int, ResolvedColumn]] = []
    others = []
    for term in step.on:
        sources = sources_of(term, scope)
        if sources == {joined} and push(term, part_of[joined]):
            continue
        sides = _equality_sides(term, scope, joined, earlier)
        if sides is None:
            others.append(term)
            continue
        right_column = _restrictable(sides, scope)
        if right_column is not None:
            restrict.append((len(left_keys), right_column))
        compiler.check_comparable(sides[0], sides[1], term)  # a hash join would not match
        left_keys.append(compiler.compile(sides[0]))
        right_keys.append(compiler.compile(sides[1]))
    condition = compiler.compile(exp.and_(*others)) if others else None
    return plans.JoinStep(
        part_of[joined],
        step.outer,
        tuple(left_keys),
        tuple(right_keys),
        condition,
        tuple(restrict),
    )


def _family(type_code: str) -> str:
    kind = base_type(type_code)
    return "int" if kind in _INTEGERS else "text" if kind in _TEXTS else kind


def _restrictable(sides: tuple[exp.Expr, exp.Expr], scope: Scope) -> ResolvedColumn | None:
    """The joined side's column when the right table may be read as ``column in (left
    values)``: a stored attribute compared with a value of the same kind (the catalogue
    would convert a literal of another kind to the attribute's type; the hash join does not)."""
    left, right = (scope.column(side) for side in sides)  # type: ignore[arg-type]
    if right.virtual or left.virtual:
        return None
    return right if _family(left.type_code) == _family(right.type_code) else None


def _equality_sides(
    term: exp.Expr, scope: Scope, joined: str, earlier: set[str]
) -> tuple[exp.Expr, exp.Expr] | None:
    """(earlier side, joined side) of ``a.x = b.y`` joining ``joined`` to earlier tables."""
    if not isinstance(term, exp.EQ):
        return None
    left, right = term.left, term.right
    if not isinstance(left, exp.Column) or not isinstance(right, exp.Column):
        return None
    left_source = scope.column(left).source
    right_source = scope.column(right).source
    if left_source == joined and right_source in earlier:
        return right, left
    if right_source == joined and left_source in earlier:
        return left, right
    return None
