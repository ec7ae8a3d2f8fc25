"""Name/value views read as the attributes they are.

In SQL written for name/value tables every parameter a query uses is one more alias of the
table, e.g. ``JOIN fileParams AS p_size ON p_size.file_id = files.file_id AND p_size.name =
'Size'``. Over a :class:`NameValueTable` such an alias is one attribute (``Size``) of the
entry of its key, so the statement is rewritten to SQL over the directory itself, which the
catalogue then joins and filters in one ``selectattr``:

- the name term becomes ``p.Size = p.Size`` (SQL's way of saying IS NOT NULL that the query
  language can say: the row exists exactly when the attribute is set); a name no attribute
  stands for becomes ``p.KEY <> p.KEY`` (never true) and its value NULL;
- ``p.value`` becomes the attribute, read as text like a name/value table stores it; under
  ``CAST(... AS <integer type>)`` or compared with a text constant, a numeric attribute is
  used as the number it is (``'0123'`` equals no number's text, so that comparison is false);
- aliases of one view whose keys are equated with the same column (or with each other) are
  the same entry when the view's key is unique, and merge into one alias: the seed's
  self-join of ``fileParams`` becomes one lookup. A LEFT JOINed alias merges into an inner
  one only when nothing but its value is used outside its ON clause (its value is then
  the attribute, NULL when unset, exactly as the outer join gives it).

Aliases whose name is not fixed stay views: the translator unfolds their entries in Python.
An EXISTS over a fixed name becomes a join first (``inline.py``); rewrites are reused per
connection (``rewrite_cache.py``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from bookkeeping.jdbc_compat.clauses import conjuncts_of
from bookkeeping.jdbc_compat.conditions import parameter
from bookkeeping.jdbc_compat.exceptions import ProgrammingError
from bookkeeping.jdbc_compat.inline import (
    exists_as_join,
    inline_exists,
    statement_tables,
    where_terms,
)
from bookkeeping.jdbc_compat.parsing import PARAMETER_INDEX
from bookkeeping.jdbc_compat.rewrite_cache import RewriteCache
from bookkeeping.jdbc_compat.schema import CatalogueSchema, match_name, views_of
from bookkeeping.jdbc_compat.scope import ATTRIBUTE_META, DIRECTORY_META
from bookkeeping.jdbc_compat.types import base_type
from bookkeeping.jdbc_compat.views import NameValueTable, find_view, view_directory

_INTEGERS = frozenset({"int", "integer", "bigint", "smallint"})
_TEXTS = frozenset({"varchar", "varchar2", "char", "text"})
_INTEGER_CASTS = frozenset(
    {
        exp.DataType.Type.TINYINT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.MEDIUMINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT,
    }
)


@dataclass(eq=False)
class _Alias:
    name: str  # the alias, or the table name as written
    view: NameValueTable
    directory: str
    table: exp.Table
    join: exp.Join | None  # None: the FROM table
    nullable: bool  # the NULL-supplying side of a LEFT JOIN
    constant: str | None = None  # the name fixed by the name term
    name_term: exp.Expr | None = None
    attribute: str | None = None  # None: no attribute holds that name
    type_code: str = ""
    key_term: exp.Expr | None = None
    anchor: object = None  # what the key is equated with: (table, column) or another _Alias
    target: _Alias | None = None  # the alias it merges into (itself when it stays)
    uses: list[exp.Column] = field(default_factory=list)  # every column naming it
    disabled: bool = False  # read inside a subquery: left a view


def rewrite_views(
    select: exp.Select, schema: CatalogueSchema, params: Sequence[object]
) -> exp.Select:
    """``select`` with every name/value alias whose name is fixed read as its attribute
    (a rewritten copy; the parsed statement is shared and never changed)."""
    views = views_of(schema)
    if not views:
        return select
    cache: RewriteCache | None = getattr(schema, "rewrites", None)
    if cache is not None:
        found = cache.get(select, schema, params)
        if found is not None:
            return found
    inline = any(exists_as_join(term, views, select) for term in where_terms(select))
    if not inline and not _name_value_tables(select, views):
        return select
    original, select = select, select.copy()
    if inline:
        inline_exists(select, views)
    rewriter = _Rewriter(select, schema, params)
    rewriter.run()
    if cache is not None and rewriter.reusable:
        cache.put(original, schema, rewriter.consumed, select)
    return select


def _name_value_tables(select: exp.Select, views: object) -> bool:
    return any(
        isinstance(table, exp.Table)
        and not table.meta.get(DIRECTORY_META)
        and isinstance(find_view(views, table.name), NameValueTable)  # type: ignore[arg-type]
        for table, _join in statement_tables(select)
    )


def _is_outer(join: exp.Join | None) -> bool:
    return join is not None and (join.args.get("side") or "").upper() == "LEFT"


def _marked(attribute: str, table: str) -> exp.Column:
    column = exp.column(attribute, table=table, quoted=True)
    column.meta[ATTRIBUTE_META] = attribute
    return column


class _Rewriter:
    def __init__(
        self, select: exp.Select, schema: CatalogueSchema, params: Sequence[object]
    ) -> None:
        self.select = select
        self.schema = schema
        self.params = params
        self.source_names = [t.alias_or_name for t, _ in statement_tables(select)]
        self.aliases: list[_Alias] = []
        # The parameters the rewrite read (their values decide it) and whether it may be
        # reused: not when a name had no attribute (a writer may add it at any moment).
        self.consumed: dict[int, object] = {}
        self.reusable = True
        views = views_of(schema)
        for table, join in statement_tables(select):
            if not isinstance(table, exp.Table) or table.meta.get(DIRECTORY_META):
                continue
            view = find_view(views, table.name)
            if isinstance(view, NameValueTable):
                directory = view_directory(schema.base_directory, view)
                self.aliases.append(
                    _Alias(table.alias_or_name, view, directory, table, join, _is_outer(join))
                )

    # -- analysis ----------------------------------------------------------------------------

    def owner(self, column: exp.Column) -> _Alias | None:
        if column.table:
            found = match_name(column.table, self.source_names)
            return next((a for a in self.aliases if a.name == found), None)
        if len(self.source_names) == 1 and self.aliases:
            return self.aliases[0]
        return None

    def _is(self, column: exp.Expr, alias: _Alias, wanted: str) -> bool:
        return (
            isinstance(column, exp.Column)
            and self.owner(column) is alias
            and column.name.casefold() == wanted.casefold()
        )

    def _constant(self, node: exp.Expr) -> object:
        if isinstance(node, exp.Literal) and node.is_string:
            return node.this
        if isinstance(node, exp.Placeholder):
            value = parameter(node, self.params)
            self.consumed[node.meta[PARAMETER_INDEX]] = value
            return value
        return None

    def _candidates(self, alias: _Alias) -> list[exp.Expr]:
        on = alias.join.args.get("on") if alias.join is not None else None
        terms = conjuncts_of(on) if on is not None else []
        where = self.select.args.get("where")
        if not alias.nullable and where is not None:
            terms += conjuncts_of(where.this)
        return terms

    def _find_name_term(self, alias: _Alias) -> None:
        for term in self._candidates(alias):
            if not isinstance(term, exp.EQ):
                continue
            for side, other in ((term.left, term.right), (term.right, term.left)):
                if not self._is(side, alias, alias.view.name_column):
                    continue
                value = self._constant(other)
                if isinstance(value, str):
                    alias.constant, alias.name_term = value, term
                    return

    def _resolve_attribute(self, alias: _Alias) -> None:
        assert alias.constant is not None
        attribute = alias.view.attribute_of(alias.constant)
        types = dict(self.schema.attributes(alias.directory))
        if attribute not in types and not getattr(self.schema, "fresh", True):
            # Another connection may have added it since the schema was cached.
            self.schema.refresh()  # type: ignore[attr-defined]
            types = dict(self.schema.attributes(alias.directory))
        if attribute in types:
            alias.attribute, alias.type_code = attribute, types[attribute]
        else:
            self.reusable = False

    def _find_anchor(self, alias: _Alias) -> None:
        for term in self._candidates(alias):
            if not isinstance(term, exp.EQ) or term is alias.name_term:
                continue
            for side, other in ((term.left, term.right), (term.right, term.left)):
                if not self._is(side, alias, alias.view.key[0]):
                    continue
                if not isinstance(other, exp.Column) or not other.table:
                    continue
                partner = self.owner(other)
                if partner is alias:
                    continue
                if partner is not None and self._is(other, partner, partner.view.key[0]):
                    alias.anchor = partner
                else:
                    found = match_name(other.table, self.source_names)
                    alias.anchor = (found, other.name.casefold())
                alias.key_term = term
                return

    def _collect_uses(self) -> None:
        """Record each alias's columns; an alias read inside a subquery is left alone (the
        subquery's rows are filtered elsewhere)."""
        for column in self.select.find_all(exp.Column):
            alias = self.owner(column)
            if alias is None:
                continue
            if column.find_ancestor(exp.Select) is not self.select:
                alias.disabled = True
            alias.uses.append(column)

    def _outside_on(self, alias: _Alias) -> list[exp.Column]:
        on = alias.join.args.get("on") if alias.join is not None else None
        return [use for use in alias.uses if not _inside(use, on)]

    def _mergeable_outer(self, alias: _Alias) -> bool:
        """A LEFT JOINed alias read only for its value, joined on its key and name alone."""
        on = alias.join.args.get("on") if alias.join is not None else None
        terms = conjuncts_of(on) if on is not None else []
        if {id(t) for t in terms} != {id(alias.key_term), id(alias.name_term)}:
            return False
        value = alias.view.value_column.casefold()
        return all(use.name.casefold() == value for use in self._outside_on(alias))

    def _group(self, pivoted: list[_Alias]) -> None:
        """Merge aliases that are the same entry (union-find over key equalities)."""
        parent = {id(a): a for a in pivoted}

        def find(alias: _Alias) -> _Alias:
            while parent[id(alias)] is not alias:
                alias = parent[id(alias)]
            return alias

        first: dict[tuple[str, object], _Alias] = {}
        for alias in pivoted:
            alias.target = alias
            if not alias.view.unique_key or alias.anchor is None:
                continue
            anchor = alias.anchor
            if isinstance(anchor, _Alias):
                if id(anchor) in parent and anchor.directory == alias.directory:
                    parent[id(find(alias))] = find(anchor)
                continue
            other = first.setdefault((alias.directory, anchor), alias)
            if other is not alias:
                parent[id(find(alias))] = find(other)
        groups: dict[int, list[_Alias]] = {}
        for alias in pivoted:  # in FROM order
            groups.setdefault(id(find(alias)), []).append(alias)
        for members in groups.values():
            inner = [m for m in members if not m.nullable]
            if not inner:
                continue
            representative = inner[0]
            for member in members:
                if member is not representative and (
                    not member.nullable or self._mergeable_outer(member)
                ):
                    member.target = representative

    # -- rewriting ---------------------------------------------------------------------------

    def run(self) -> None:
        self._collect_uses()
        for alias in self.aliases:
            if alias.disabled:
                continue
            self._find_name_term(alias)
            name = alias.view.name_column.casefold()
            if alias.nullable and any(
                use.name.casefold() == name for use in self._outside_on(alias)
            ):
                # An unmatched row's name is NULL, not the constant: unfold in Python.
                alias.constant = None
        pivoted = [a for a in self.aliases if a.constant is not None]
        if not pivoted:
            return
        for alias in pivoted:
            self._resolve_attribute(alias)
            self._find_anchor(alias)
        self._group(pivoted)
        self._expand_stars(pivoted)
        moved: list[exp.Expr] = []
        dropped: set[int] = set()
        for alias in pivoted:
            if alias.target is alias:
                self._retable(alias)
                continue
            if alias.key_term is not None:
                dropped.add(id(alias.key_term))
            if alias.join is not None:
                on = alias.join.args.get("on")
                if not alias.nullable and on is not None:
                    moved += [t for t in conjuncts_of(on) if t is not alias.key_term]
                alias.join.pop()
        self._rebuild_where(moved, dropped)
        self._name_items(pivoted)
        for alias in pivoted:
            self._rewrite_name_term(alias)
        for alias in pivoted:
            for use in alias.uses:
                if _root(use) is self.select:
                    self._rewrite_use(use, alias)

    def _retable(self, alias: _Alias) -> None:
        table = exp.Table(
            this=exp.to_identifier(posixpath.basename(alias.directory), quoted=True),
            alias=exp.TableAlias(this=exp.to_identifier(alias.name, quoted=True)),
        )
        table.meta[DIRECTORY_META] = alias.directory
        alias.table.replace(table)

    def _rebuild_where(self, moved: list[exp.Expr], dropped: set[int]) -> None:
        where = self.select.args.get("where")
        terms = conjuncts_of(where.this) if where is not None else []
        terms = [t for t in terms if id(t) not in dropped] + moved
        if terms:
            self.select.set("where", exp.Where(this=exp.and_(*terms, copy=False)))
        else:
            self.select.set("where", None)

    def _expand_stars(self, pivoted: list[_Alias]) -> None:
        """``*`` and ``p.*`` list a pivoted alias's view columns, named as the view names
        them (the other tables keep their ``t.*``)."""
        by_table = {id(a.table): a for a in pivoted}
        items: list[exp.Expr] = []
        changed = False
        for item in self.select.expressions:
            is_star = isinstance(item, exp.Star) or (
                isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
            )
            if not is_star:
                items.append(item)
                continue
            tables = [t for t, _ in statement_tables(self.select)]
            if isinstance(item, exp.Column):
                found = match_name(item.table, self.source_names)
                tables = [t for t in tables if t.alias_or_name == found]
            for table in tables:
                alias = by_table.get(id(table))
                if alias is None:
                    star_table = exp.to_identifier(table.alias_or_name, quoted=True)
                    items.append(exp.Column(this=exp.Star(), table=star_table))
                    continue
                changed = True
                for column in alias.view.columns:
                    node = exp.column(column, table=alias.name, quoted=True)
                    alias.uses.append(node)
                    items.append(node)
        if changed:
            self.select.set("expressions", items)

    def _name_items(self, pivoted: list[_Alias]) -> None:
        """A selected column keeps its SQL name when it becomes an attribute."""
        owners = {id(a) for a in pivoted}
        for item in list(self.select.expressions):
            owner = self.owner(item) if isinstance(item, exp.Column) else None
            if owner is not None and id(owner) in owners:
                named = exp.Alias(alias=exp.to_identifier(item.name, quoted=True))
                item.replace(named)
                named.set("this", item)

    def _rewrite_name_term(self, alias: _Alias) -> None:
        term = alias.name_term
        if term is None or _root(term) is not self.select:
            return  # went with a merged LEFT JOIN's ON clause
        target = (alias.target or alias).name
        if alias.attribute is None:  # never true: the key is always set
            key = alias.view.key[1]
            term.replace(exp.NEQ(this=_marked(key, target), expression=_marked(key, target)))
        else:  # IS NOT NULL, said the query language's way
            attribute = alias.attribute
            term.replace(
                exp.EQ(this=_marked(attribute, target), expression=_marked(attribute, target))
            )

    def _rewrite_use(self, use: exp.Column, alias: _Alias) -> None:
        target = alias.target or alias
        view = alias.view
        column = use.name.casefold()
        if column == view.key[0].casefold():
            use.replace(_marked(view.key[1], target.name))
        elif column == view.name_column.casefold():
            use.replace(exp.Literal.string(alias.constant or ""))
        elif column == view.value_column.casefold():
            self._rewrite_value(use, alias, target)
        else:
            raise ProgrammingError(f"no such column: {use.sql()}")

    def _rewrite_value(self, node: exp.Column, alias: _Alias, target: _Alias) -> None:
        if alias.attribute is None:
            node.replace(exp.Null())
            return
        column = _marked(alias.attribute, target.name)
        kind = base_type(alias.type_code)
        if kind in _TEXTS:
            node.replace(column)
            return
        parent = node.parent
        if kind in _INTEGERS and isinstance(parent, exp.Cast) and _integer_cast(parent):
            parent.replace(column)
            return
        if kind in _INTEGERS and isinstance(parent, exp.EQ | exp.NEQ):
            other = parent.right if parent.left is node else parent.left
            value = self._constant(other)
            if isinstance(value, str):
                parent.replace(_number_comparison(parent, column, value))
                return
        node.replace(exp.Cast(this=column, to=exp.DataType.build(alias.view.value_type)))


def _inside(node: exp.Expr | None, ancestor: exp.Expr | None) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _root(node: exp.Expr) -> exp.Expr:
    while node.parent is not None:
        node = node.parent
    return node


def _integer_cast(cast: exp.Cast) -> bool:
    to = cast.args.get("to")
    used = {key for key, value in cast.args.items() if value is not None and value is not False}
    return (
        isinstance(to, exp.DataType)
        and to.this in _INTEGER_CASTS
        and not to.expressions
        and used <= {"this", "to", "_type"}
    )


def _number_comparison(parent: exp.Expr, column: exp.Column, text: str) -> exp.Expr:
    """``value = 'text'`` (or ``<>``) over a numeric attribute: its text is ``str(number)``,
    so only a canonical number's text can equal it."""
    equal = isinstance(parent, exp.EQ)
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or str(number) != text:
        # No number's text: '=' is false, '<>' true, for every set attribute (NULL stays NULL).
        other = column.copy()
        return (
            exp.NEQ(this=column, expression=other)
            if equal
            else exp.EQ(this=column, expression=other)
        )
    literal = exp.Literal.number(number)
    return (
        exp.EQ(this=column, expression=literal)
        if equal
        else exp.NEQ(this=column, expression=literal)
    )
