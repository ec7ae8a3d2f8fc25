"""EXISTS over a name/value view with a unique key, read as an inner join.

``EXISTS (SELECT ... FROM v WHERE v.name = <constant> AND v.key = <outer column> AND <terms
about v>)``: at most one row of ``v`` has that key and name, so the semi-join and the inner
join ``JOIN v ON <those terms>`` keep the same rows, and ``pivot.py`` then reads the join as
the attribute it is (merged with the statement's other aliases of that entry, so the
catalogue filters it in the statement's one ``selectattr``). Any other EXISTS stays a
semi-join computed in Python (``subquery.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from bookkeeping.jdbc_compat.clauses import conjuncts_of
from bookkeeping.jdbc_compat.scope import DIRECTORY_META
from bookkeeping.jdbc_compat.views import NameValueTable, View, find_view


def where_terms(select: exp.Select) -> list[exp.Expr]:
    where = select.args.get("where")
    return conjuncts_of(where.this) if where is not None else []


def inline_exists(select: exp.Select, views: Mapping[str, View]) -> None:
    """Turn every such WHERE term of ``select`` (a copy) into a JOIN of its own."""
    kept: list[exp.Expr] = []
    for term in where_terms(select):
        found = exists_as_join(term, views, select)
        if found is None:
            kept.append(term)
            continue
        table, terms = found
        on = exp.and_(*(t.copy() for t in terms), copy=False)
        select.append("joins", exp.Join(this=table.copy(), on=on))
    select.set("where", exp.Where(this=exp.and_(*kept, copy=False)) if kept else None)


def exists_as_join(
    term: exp.Expr, views: Mapping[str, View], select: exp.Select
) -> tuple[exp.Table, list[exp.Expr]] | None:
    """(table, WHERE terms) of an EXISTS that can be read as an inner join, else None."""
    while isinstance(term, exp.Paren):
        term = term.this
    if not isinstance(term, exp.Exists) or not isinstance(term.this, exp.Select):
        return None
    sub = term.this
    if any(
        value not in (None, False, [])
        for key, value in sub.args.items()
        if key not in {"expressions", "from_", "where"}
    ):
        return None
    from_ = sub.args.get("from_")
    table = from_.this if from_ is not None else None
    if not isinstance(table, exp.Table) or table.meta.get(DIRECTORY_META):
        return None
    view = find_view(views, table.name)
    alias = table.alias_or_name
    outer = [t.alias_or_name for t, _ in statement_tables(select)]
    if not isinstance(view, NameValueTable) or not view.unique_key or alias in outer:
        return None
    terms = where_terms(sub)
    named = keyed = False
    for item in terms:
        if item.find(exp.Select) is not None:
            return None
        local = [c for c in item.find_all(exp.Column) if c.table == alias]
        others = [c for c in item.find_all(exp.Column) if c.table != alias]
        if not others:
            named = named or _fixes(item, alias, view.name_column)
            continue
        if not isinstance(item, exp.EQ) or any(not c.table for c in others):
            return None
        sides = (item.left, item.right)
        key = [s for s in sides if isinstance(s, exp.Column) and s in local]
        if len(local) != 1 or not key or key[0].name.casefold() != view.key[0].casefold():
            return None
        keyed = True
    return (table, terms) if named and keyed else None


def _fixes(term: exp.Expr, alias: str, column: str) -> bool:
    """``alias.column = <literal or parameter>`` (either way round)."""
    if not isinstance(term, exp.EQ):
        return False
    for side, other in ((term.left, term.right), (term.right, term.left)):
        if (
            isinstance(side, exp.Column)
            and side.table == alias
            and side.name.casefold() == column.casefold()
            and isinstance(other, exp.Literal | exp.Placeholder)
        ):
            return True
    return False


def statement_tables(select: exp.Select) -> list[tuple[exp.Expr, exp.Join | None]]:
    from_ = select.args.get("from_")
    tables: list[tuple[exp.Expr, exp.Join | None]] = []
    if from_ is not None:
        tables.append((from_.this, None))
    tables += [(join.this, join) for join in select.args.get("joins") or []]
    return tables
