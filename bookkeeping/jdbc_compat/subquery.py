"""``[NOT] EXISTS (SELECT ... FROM t WHERE ...)`` as a semi-join computed in Python.

The subquery reads one table (a directory or a view). Its WHERE terms are either about that
table alone - pushed into its fetch, or evaluated in Python on its rows - or correlations
``<expression over t> = <expression over the outer statement>``. The table is read once, before the
statement's rows, into the set of its correlation keys; EXISTS then tests an outer row's key
against that set (an uncorrelated EXISTS tests whether the set is empty). Anything else -
joins, grouping, LIMIT in the subquery, a correlation other than an equality - raises
NotSupportedError naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from bookkeeping.jdbc_compat.backend import Backend
from bookkeeping.jdbc_compat.clauses import conjuncts_of, reject_unknown_args
from bookkeeping.jdbc_compat.conditions import QueryLanguageWriter
from bookkeeping.jdbc_compat.evaluate import Evaluator, PythonCompiler
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.fetch import Fetch, Layout, build_fetch
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.pivot import rewrite_views
from bookkeeping.jdbc_compat.schema import ENTRY_NAME
from bookkeeping.jdbc_compat.scope import Scope, unsupported


@dataclass
class SemiJoin:
    """The subquery's table, read into ``keys`` when the statement runs."""

    fetch: Fetch
    width: int
    inner_keys: tuple[Evaluator, ...]
    keep: Evaluator | None
    keys: set[tuple[object, ...]] = field(default_factory=set)

    def load(self, backend: Backend) -> None:
        self.keys = {
            key
            for row in self.fetch.rows(backend, self.width)
            if (self.keep is None or self.keep(row) is True)
            and None not in (key := tuple(evaluate(row) for evaluate in self.inner_keys))
        }


def semi_join(
    node: exp.Exists, outer: Scope, params: Sequence[object], compiler: PythonCompiler
) -> tuple[SemiJoin, Evaluator]:
    """The semi-join of an EXISTS and the evaluator testing an outer row (``compiler``
    compiles the outer side of each correlation)."""
    select = node.this
    if not isinstance(select, exp.Select):
        raise unsupported(node, "WHERE")
    reject_unknown_args(select, {"expressions", "from_", "where"}, "an EXISTS subquery")
    select = rewrite_views(select, outer.schema, params)
    from_ = select.args.get("from_")
    if from_ is None:
        raise NotSupportedError("a subquery without FROM is not supported")
    local = Scope(outer.schema, [from_.this])
    source = local.sources[0]
    layout = Layout()
    inner = PythonCompiler(local.column, layout.slot, params)
    writer = QueryLanguageWriter(local.column, params)
    pushed: list[exp.Expr] = []
    residual: list[exp.Expr] = []
    inner_keys: list[Evaluator] = []
    outer_keys: list[Evaluator] = []
    where = select.args.get("where")
    for term in conjuncts_of(where.this) if where is not None else []:
        if term.find(exp.Select) is not None:
            raise NotSupportedError(f"nested subqueries are not supported: {term.sql()[:60]}")
        if all(_is_local(column, local) for column in term.find_all(exp.Column)):
            try:
                writer.write(term)
                pushed.append(term)
            except Untranslatable:
                residual.append(term)
            continue
        sides = _correlation(term, local)
        if sides is None:
            raise NotSupportedError(
                f"correlated subquery condition other than inner = outer: {term.sql()[:60]}"
            )
        inner_keys.append(inner.compile(sides[0]))
        outer_keys.append(compiler.compile(sides[1]))
    keep = inner.compile(exp.and_(*residual)) if residual else None
    if not layout.columns:  # read something, so that the rows are counted
        layout.slot(local.column(exp.column(ENTRY_NAME, source.name)))
    fetch = build_fetch([source], layout, pushed, writer, local, params)
    semijoin = SemiJoin(fetch, len(layout.columns), tuple(inner_keys), keep)

    def exists(row: Sequence[object]) -> bool:
        key = tuple(evaluate(row) for evaluate in outer_keys)
        return None not in key and key in semijoin.keys

    return semijoin, exists


def _is_local(column: exp.Column, local: Scope) -> bool:
    if column.table:
        return local.has_source(column.table)
    try:
        local.column(column)
    except ProgrammingError:
        return False
    return True


def _correlation(term: exp.Expr, local: Scope) -> tuple[exp.Expr, exp.Expr] | None:
    """(inner side, outer side) of ``<expression over the subquery's table> = <expression
    over the outer statement>``."""
    if not isinstance(term, exp.EQ):
        return None
    for inner, other in ((term.left, term.right), (term.right, term.left)):
        inner_columns = list(inner.find_all(exp.Column))
        if (
            inner_columns
            and all(_is_local(c, local) for c in inner_columns)
            and not any(_is_local(c, local) for c in other.find_all(exp.Column))
        ):
            return inner, other
    return None
