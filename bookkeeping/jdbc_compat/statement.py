"""A SELECT statement resolved against the catalogue schema (``SelectStatement``): one
``selectattr`` when the query language can say it exactly, else the rows fetched and a Python
pipeline over them. ``select.translate_select`` builds it; ``join.py`` builds on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from bookkeeping.jdbc_compat.clauses import reject_unknown_args
from bookkeeping.jdbc_compat.conditions import AGGREGATES, QueryLanguageWriter
from bookkeeping.jdbc_compat.evaluate import Evaluator, PythonCompiler
from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.kinds import UNKNOWN, family, shown
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.pipeline import Aggregate, Composite, Pipeline, SortKey
from bookkeeping.jdbc_compat.plans import CatalogueQuery, ResultColumn, SelectRows
from bookkeeping.jdbc_compat.schema import ENTRY_NAME, reference
from bookkeeping.jdbc_compat.scope import ResolvedColumn, Scope, unsupported
from bookkeeping.jdbc_compat.subquery import SemiJoin, semi_join
from bookkeeping.jdbc_compat.types import base_type


@dataclass(frozen=True)
class Item:
    expression: exp.Expr
    name: str
    alias: str | None


class _Recorder:
    """Resolves columns and remembers which directories a query has named."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.directories: set[str] = set()

    def resolve(self, node: exp.Column) -> ResolvedColumn:
        column = self.scope.column(node)
        self.directories.add(column.directory)
        return column

    def unnamed_directories(self) -> list[str]:
        return [s.directory for s in self.scope.sources if s.directory not in self.directories]


def _aggregate_call(expression: exp.Expr) -> tuple[str, exp.Expr | None, bool] | None:
    """(function, argument or None for ``*``, DISTINCT?) of an aggregate item."""
    if not isinstance(expression, exp.AggFunc):
        return None
    if type(expression) not in AGGREGATES:
        raise unsupported(expression, "the select list")
    reject_unknown_args(expression, {"this", "big_int"}, AGGREGATES[type(expression)].upper())
    argument = expression.this
    distinct = isinstance(argument, exp.Distinct)
    if distinct:
        if len(argument.expressions) != 1:
            raise unsupported(expression, "the select list")
        argument = argument.expressions[0]
    if isinstance(argument, exp.Star):
        if not isinstance(expression, exp.Count) or distinct:
            raise unsupported(expression, "the select list")
        return "count", None, False
    return AGGREGATES[type(expression)], argument, distinct


@dataclass
class SelectStatement:
    scope: Scope
    params: Sequence[object]
    items: list[Item]
    conjuncts: list[exp.Expr]
    group: list[exp.Expr] | None
    order: list[exp.Expr]
    distinct: bool
    limit: int | None
    offset: int | None
    semijoins: list[SemiJoin] = field(default_factory=list)  # EXISTS subqueries, read first

    def python_compiler(
        self, resolve: Callable[[exp.Column], ResolvedColumn], slot: Callable[[ResolvedColumn], int]
    ) -> PythonCompiler:
        def subquery(node: exp.Exists, compiler: PythonCompiler) -> Evaluator:
            semijoin, evaluator = semi_join(node, self.scope, self.params, compiler)
            self.semijoins.append(semijoin)
            return evaluator

        return PythonCompiler(resolve, slot, self.params, subquery=subquery)

    @property
    def aggregated(self) -> bool:
        return self.group is not None or any(
            item.expression.find(exp.AggFunc) for item in self.items
        )

    def check_aggregates(self) -> None:
        for item in self.items:
            for aggregate in item.expression.find_all(exp.AggFunc):
                call = _aggregate_call(aggregate)
                if call and call[1] is not None and call[1].find(exp.AggFunc):
                    raise ProgrammingError(f"aggregate inside an aggregate: {item.name}")
        for conjunct in self.conjuncts:
            if conjunct.find(exp.AggFunc):
                raise ProgrammingError("aggregate functions are not allowed in WHERE")

    # -- everything in one selectattr ------------------------------------------------------

    def in_catalogue(self) -> SelectRows:
        recorder = _Recorder(self.scope)
        writer = QueryLanguageWriter(recorder.resolve, self.params)
        conditions = [writer.write(conjunct) for conjunct in self.conjuncts]
        calls = [_aggregate_call(item.expression) for item in self.items]
        if any(not call and item.expression.find(exp.AggFunc) for item, call in
               zip(self.items, calls, strict=True)):  # fmt: skip
            raise Untranslatable("aggregate inside an expression")
        grouped = any(calls) or self.group is not None
        if grouped:
            self._check_catalogue_grouping(calls)
        texts = [self._item_text(writer, recorder, item.expression) for item in self.items]
        if any(calls) and self.group is None and (self.limit is not None or self.offset):
            raise Untranslatable("LIMIT/OFFSET of an aggregate row")
        # An aggregate without GROUP BY is one row: ORDER BY and DISTINCT change nothing.
        single_row = any(calls) and self.group is None
        modifiers = [] if single_row else self._modifiers(writer, recorder)
        conditions += _mention(recorder.unnamed_directories())
        condition = " and ".join(conditions)
        condition = " ".join(part for part in (condition, *modifiers) if part)
        columns = self._columns()
        types = tuple(column.type_code for column in columns)
        return SelectRows(CatalogueQuery(tuple(texts), condition, types), columns)

    def _check_catalogue_grouping(self, calls: list[tuple[str, Any, bool] | None]) -> None:
        """The catalogue groups by exactly the selected items holding no aggregate (AMGA's
        rule), so a GROUP BY runs there only when it names exactly those items."""
        plain = [item.expression for item, call in zip(self.items, calls, strict=True) if not call]
        if self.group is None:
            if plain:
                raise ProgrammingError(
                    "a select list mixing aggregates and plain columns needs GROUP BY"
                )
            return
        terms = [self._order_target(term).expression for term in self.group]
        if any(call and call[2] for call in calls):
            raise Untranslatable("aggregate over DISTINCT")
        if not all(any(term == p for p in plain) for term in terms) or not all(
            any(p == term for term in terms) for p in plain
        ):
            raise Untranslatable("GROUP BY other than the selected plain items")

    def _item_text(
        self, writer: QueryLanguageWriter, recorder: _Recorder, expression: exp.Expr
    ) -> str:
        call = _aggregate_call(expression)
        if call is None:
            return writer.write(expression)
        function, argument, distinct = call
        if distinct:
            raise Untranslatable("aggregate over DISTINCT")
        if argument is None:
            first = self.scope.sources[0].directory
            recorder.directories.add(first)
            return f"count({reference(first, ENTRY_NAME)})"
        return f"{function}({writer.write(argument)})"

    def _modifiers(self, writer: QueryLanguageWriter, recorder: _Recorder) -> list[str]:
        modifiers = []
        if self.order:
            keys = []
            for ordered in self.order:
                descending = bool(ordered.args.get("desc"))
                if bool(ordered.args.get("nulls_first")) == descending:
                    # The catalogue sorts NULL low; NULLS FIRST DESC / NULLS LAST ASC differ.
                    raise Untranslatable("NULLS FIRST/LAST")
                target = self._order_target(ordered.this).expression
                if target.find(exp.AggFunc):
                    # The catalogue refuses an aggregate in ORDER BY: Python sorts.
                    raise Untranslatable("ORDER BY an aggregate")
                text = self._item_text(writer, recorder, target)
                keys.append(text + (" desc" if descending else ""))
            modifiers.append("order by " + ", ".join(keys))
        if self.limit is not None:
            modifiers.append(f"limit {self.limit}")
        if self.offset:
            if self.limit is None:
                raise Untranslatable("OFFSET without LIMIT")
            modifiers.append(f"offset {self.offset}")
        if self.distinct:
            modifiers.append("distinct")
        return modifiers

    def _order_target(self, target: exp.Expr) -> Item:
        """The item an ORDER BY/GROUP BY term names (by position, alias or same text), or a
        new hidden item."""
        if isinstance(target, exp.Literal) and not target.is_string:
            position = int(target.this)
            if not 1 <= position <= len(self.items):
                raise ProgrammingError(f"ORDER BY/GROUP BY position {position} is out of range")
            return self.items[position - 1]
        if isinstance(target, exp.Column) and not target.table:
            for item in self.items:
                if item.alias is not None and item.alias.casefold() == target.name.casefold():
                    return item
        for item in self.items:
            if item.expression == target:
                return item
        return Item(target, target.sql(), None)

    def _columns(self) -> tuple[ResultColumn, ...]:
        return tuple(ResultColumn(item.name, self._type_of(item.expression)) for item in self.items)

    def _type_of(self, expression: exp.Expr) -> str | None:
        call = _aggregate_call(expression)
        if call is not None:
            function, argument = call[0], call[1]
            if function == "count":
                return "int"
            if function == "avg":
                return "double"
            expression = argument  # type: ignore[assignment]
        return expression_type(expression, self.scope)

    # -- the rest computed in Python --------------------------------------------------------

    def in_python(self) -> SelectRows:
        recorder = _Recorder(self.scope)
        writer = QueryLanguageWriter(recorder.resolve, self.params)
        fetched: list[ResolvedColumn] = []

        def slot(column: ResolvedColumn) -> int:
            if column not in fetched:
                fetched.append(column)
            return fetched.index(column)

        compiler = self.python_compiler(recorder.resolve, slot)
        pushed, residual = [], []
        for conjunct in self.conjuncts:
            try:
                pushed.append(writer.write(conjunct))
            except Untranslatable:
                residual.append(conjunct)
        pipeline = self.pipeline(compiler, residual)
        if not fetched:
            slot(recorder.resolve(exp.column(ENTRY_NAME, self.scope.sources[0].name)))
        pushed += _mention(recorder.unnamed_directories())
        query = CatalogueQuery(
            tuple(column.ref for column in fetched),
            " and ".join(pushed),
            tuple(column.type_code for column in fetched),
        )
        return SelectRows(query, self._columns(), pipeline, tuple(self.semijoins))

    def pipeline(self, compiler: PythonCompiler, residual: list[exp.Expr]) -> Pipeline:
        """Filter by ``residual``, then group, project, order, DISTINCT, OFFSET/LIMIT."""
        pipeline = Pipeline(
            outputs=[],
            width=len(self.items),
            keep=compiler.compile(exp.and_(*residual)) if residual else None,
            distinct=self.distinct,
            offset=self.offset or 0,
            limit=self.limit,
        )
        if self.aggregated:
            pipeline.group_keys, pipeline.outputs = self._grouping(compiler)
        else:
            pipeline.outputs = [compiler.compile(item.expression) for item in self.items]
        pipeline.order = self._sort_keys(compiler, pipeline)
        return pipeline

    def _grouping(
        self, compiler: PythonCompiler
    ) -> tuple[list[Evaluator], list[Evaluator | Aggregate | Composite]]:
        group_terms = [self._order_target(term).expression for term in self.group or []]
        grouped_columns = {
            self.scope.column(column)
            for term in group_terms
            for column in term.find_all(exp.Column)
        }
        keys = [compiler.compile(term) for term in group_terms]
        outputs: list[Evaluator | Aggregate | Composite] = []
        for item in self.items:
            call = _aggregate_call(item.expression)
            if call is not None:
                outputs.append(_aggregate(call, compiler))
                continue
            outside = [
                column
                for column in item.expression.find_all(exp.Column)
                if not any(isinstance(a, exp.AggFunc) for a in _ancestors(column))
            ]
            if not {self.scope.column(c) for c in outside} <= grouped_columns:
                raise ProgrammingError(f"column {item.name} must appear in GROUP BY")
            if item.expression.find(exp.AggFunc):
                outputs.append(_composite(item.expression, compiler))
            else:
                outputs.append(compiler.compile(item.expression))
        return keys, outputs

    def _sort_keys(self, compiler: PythonCompiler, pipeline: Pipeline) -> list[SortKey]:
        keys = []
        for ordered in self.order:
            target = self._order_target(ordered.this)
            if target in self.items:
                position = self.items.index(target)
            elif self.aggregated or self.distinct:
                raise NotSupportedError(
                    f"ORDER BY {ordered.this.sql()}: with GROUP BY, aggregates or DISTINCT, "
                    "order by a selected column"
                )
            else:
                position = len(pipeline.outputs)
                pipeline.outputs.append(compiler.compile(target.expression))
            descending = bool(ordered.args.get("desc"))
            keys.append(SortKey(position, descending, bool(ordered.args.get("nulls_first"))))
        return keys


_INTEGERS = {"int", "integer", "bigint", "smallint"}


def expression_type(expression: exp.Expr, scope: Scope) -> str | None:
    """The catalogue type of a selected expression's values (what the wire's text decodes
    as); None when unknown (the value stays text)."""
    if isinstance(expression, exp.Column):
        return scope.column(expression).type_code
    if isinstance(expression, exp.Paren | exp.Neg):
        return expression_type(expression.this, scope)
    if isinstance(expression, exp.Lower | exp.Upper):
        return "text"
    if isinstance(expression, exp.Literal):
        if expression.is_string:
            return "text"
        return "bigint" if expression.this.isdigit() else "double"
    if isinstance(expression, exp.Add | exp.Sub | exp.Mul | exp.Div):
        kinds = {
            base_type(expression_type(side, scope) or "")
            for side in (expression.left, expression.right)
        }
        if not kinds <= _INTEGERS:
            # Back-ends disagree on decimal arithmetic; a double holds every answer.
            return (
                "double" if kinds <= _INTEGERS | {"float", "double", "numeric", "decimal"} else None
            )
        return "bigint"  # int / int too: SQL's integer division (computed in Python)
    return None


def _aggregate(call: tuple[str, exp.Expr | None, bool], compiler: PythonCompiler) -> Aggregate:
    function, argument, distinct = call
    if argument is None:
        return Aggregate(function, None, distinct)
    if function in {"sum", "avg"}:
        kind = family(compiler.kind(argument))
        if kind not in {"number", UNKNOWN}:
            # As the catalogue refuses it: SQL would add text read as numbers.
            raise ProgrammingError(
                f"{function.upper()} needs numbers, not a {kind}: {shown(argument)}"
            )
    return Aggregate(function, compiler.compile(argument), distinct)


def _composite(expression: exp.Expr, compiler: PythonCompiler) -> Composite:
    """An expression over aggregates (``COALESCE(SUM(x), 0)``): the aggregates are computed
    per group, then the expression reads them."""
    aggregates: list[Aggregate] = []
    values: list[Any] = []

    def read(node: exp.AggFunc) -> Evaluator:
        call = _aggregate_call(node)
        assert call is not None
        aggregates.append(_aggregate(call, compiler))
        values.append(None)
        index = len(values) - 1
        return lambda row: values[index]

    inner = PythonCompiler(
        compiler.resolve, compiler.slot, compiler.params, aggregate=read, subquery=compiler.subquery
    )
    return Composite(aggregates, values, inner.compile(expression))


def _ancestors(node: exp.Expr) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _mention(directories: list[str]) -> list[str]:
    """Conditions that name a FROM table nothing else names, so it still joins (the query
    language joins exactly the directories a statement names; entry names are never NULL)."""
    return [f"({reference(d, ENTRY_NAME)} = {reference(d, ENTRY_NAME)})" for d in directories]
