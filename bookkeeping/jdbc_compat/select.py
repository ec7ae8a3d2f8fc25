"""SELECT -> one ``selectattr`` (items and a condition with modifiers), with a Python pipeline
over the fetched rows for whatever the query language cannot say exactly."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from bookkeeping.jdbc_compat.clauses import (
    binary_collation,
    bound,
    conjuncts_of,
    from_scope,
    reject_unknown_args,
    select_items,
)
from bookkeeping.jdbc_compat.join import join_in_python
from bookkeeping.jdbc_compat.literals import Untranslatable
from bookkeeping.jdbc_compat.pivot import rewrite_views
from bookkeeping.jdbc_compat.plans import JoinRows, SelectRows
from bookkeeping.jdbc_compat.schema import CatalogueSchema
from bookkeeping.jdbc_compat.scope import unsupported
from bookkeeping.jdbc_compat.statement import Item, SelectStatement

_SELECT_ARGS = {"expressions", "from_", "joins", "where", "group", "order", "limit", "offset"}


def translate_select(
    node: exp.Select, schema: CatalogueSchema, params: Sequence[object]
) -> SelectRows | JoinRows:
    reject_unknown_args(node, _SELECT_ARGS | {"distinct"}, "SELECT")
    node = rewrite_views(node, schema, params)
    distinct = node.args.get("distinct")
    if distinct is not None and (distinct.args.get("on") or distinct.expressions):
        raise unsupported(distinct, "SELECT")
    scope, steps = from_scope(node, schema)
    where = node.args.get("where")
    python_join = (
        scope.repeats_a_directory or scope.has_python_source or any(step.outer for step in steps)
    )
    join_terms = [] if python_join else [term for step in steps for term in step.on]
    conjuncts = (conjuncts_of(where.this) if where else []) + join_terms
    items = [Item(e, n, a) for e, n, a in select_items(node.expressions, scope)]
    group = node.args.get("group")
    if group is not None:
        reject_unknown_args(group, {"expressions"}, "GROUP BY")
    statement = SelectStatement(
        scope=scope,
        params=params,
        items=items,
        conjuncts=conjuncts,
        group=list(group.expressions) if group is not None else None,
        order=_order_terms(node),
        distinct=distinct is not None,
        limit=bound(node.args.get("limit"), params, "LIMIT"),
        offset=bound(node.args.get("offset"), params, "OFFSET"),
    )
    statement.check_aggregates()
    if python_join:
        return join_in_python(statement, steps)
    try:
        return statement.in_catalogue()
    except Untranslatable:
        return statement.in_python()


def _order_terms(node: exp.Select) -> list[exp.Expr]:
    order = node.args.get("order")
    if order is None:
        return []
    reject_unknown_args(order, {"expressions"}, "ORDER BY")
    terms: list[exp.Expr] = []
    for ordered in order.expressions:
        if not isinstance(ordered, exp.Ordered):
            raise unsupported(ordered, "ORDER BY")
        reject_unknown_args(ordered, {"this", "desc", "nulls_first"}, "ORDER BY")
        if isinstance(ordered.this, exp.Collate):
            # The parsed statement is shared (cached): the term is copied, not changed.
            ordered = ordered.copy()
            ordered.set("this", binary_collation(ordered.this))
        terms.append(ordered)
    return terms
