"""sqlglot expressions -> query-language text (conditions, selected items, update values).

Every column becomes a directory-qualified reference (``/jobs:CONFIGNAME``), so attribute
names that are keywords (``Order``, ``Limit``) never confuse the language; every literal and
parameter becomes a literal token that the query compiler binds. What the language cannot
say raises :class:`Untranslatable` (the caller may compute it in Python) or
NotSupportedError.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Sequence

from sqlglot import exp

from bookkeeping.jdbc_compat.exceptions import NotSupportedError
from bookkeeping.jdbc_compat.kinds import (
    REAL,
    STRING,
    KindOf,
    as_text,
    bare_column,
    constant_value,
    is_constant,
    refuse_unconverted,
    shown,
)
from bookkeeping.jdbc_compat.literals import Untranslatable, quote_string, render_literal
from bookkeeping.jdbc_compat.parsing import parameter
from bookkeeping.jdbc_compat.scope import ResolvedColumn, check_args, unsupported

_NUMBER = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")

COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
}
AGGREGATES: dict[type[exp.Expr], str] = {
    exp.Count: "count",
    exp.Min: "min",
    exp.Max: "max",
    exp.Sum: "sum",
    exp.Avg: "avg",
}
CASE_FUNCTIONS: dict[type[exp.Expr], str] = {exp.Lower: "lower", exp.Upper: "upper"}


class QueryLanguageWriter:
    def __init__(
        self, resolve: Callable[[exp.Column], ResolvedColumn], params: Sequence[object]
    ) -> None:
        self.resolve = resolve
        self.params = params
        self.kind = KindOf(resolve, params)

    def write(self, node: exp.Expr) -> str:
        if isinstance(node, exp.AggFunc):
            raise Untranslatable("aggregate inside an expression")
        check_args(node)
        if isinstance(node, exp.Column):
            column = self.resolve(node)
            if column.virtual:
                raise Untranslatable(f"{column.attribute} is computed by a view")
            return column.ref
        if isinstance(node, exp.Literal):
            return self._literal(node)
        if isinstance(node, exp.Placeholder):
            return render_literal(parameter(node, self.params))
        if isinstance(node, exp.Null | exp.Boolean | exp.Is | exp.Cast | exp.Coalesce | exp.Case):
            raise Untranslatable(node.key)  # the language has no NULL, casts or CASE
        if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
            return self._like_escape(node)
        if isinstance(node, exp.DPipe | exp.Escape):
            raise Untranslatable(node.key)  # nor concatenation
        if isinstance(node, exp.Exists):
            raise Untranslatable(node.key)  # nor subqueries: a semi-join in Python
        if isinstance(node, exp.Paren):
            return f"({self.write(node.this)})"
        if isinstance(node, exp.And | exp.Or):
            return f"({self.write(node.left)} {node.key} {self.write(node.right)})"
        if isinstance(node, exp.Not):
            return f"(not {self.write(node.this)})"
        if type(node) in COMPARISONS and isinstance(node, exp.Binary):
            left, right = (
                self._compared(node.left, node.right),
                self._compared(node.right, node.left),
            )
            return f"({left} {COMPARISONS[type(node)]} {right})"
        if isinstance(node, exp.Div) and REAL not in {
            self.kind.operand(node.left),
            self.kind.operand(node.right),
        }:
            # SQL (SQLite's dialect, which we parse) divides two integers as integers; the
            # query language always divides as reals: Python computes it.
            raise Untranslatable("integer division")
        if type(node) in ARITHMETIC and isinstance(node, exp.Binary):
            return f"({self.write(node.left)} {ARITHMETIC[type(node)]} {self.write(node.right)})"
        if isinstance(node, exp.Neg):
            return f"(-{self.write(node.this)})"
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Like):
            operator = "not like" if node.args.get("negate") else "like"
            return f"({self.write(node.this)} {operator} {self._like_pattern(node.expression)})"
        if isinstance(node, exp.Between):
            value = self.write(node.this)
            low = self._compared(node.args["low"], node.this)
            high = self._compared(node.args["high"], node.this)
            return f"({value} >= {low} and {value} <= {high})"
        if type(node) in CASE_FUNCTIONS:
            return f"{CASE_FUNCTIONS[type(node)]}({self.write(node.this)})"
        raise unsupported(node)

    def _compared(self, node: exp.Expr, other: exp.Expr) -> str:
        """One side of a comparison. A number constant meeting text is sent as the text the
        catalogue would make of it: the query language reads ``-1`` as a negation, which it
        then refuses to compare with text, where SQL compares "-1"."""
        if is_constant(node):
            value = constant_value(node, self.params)
            kind = self.kind(other)
            if bare_column(other) is None:
                refuse_unconverted(value, kind, shown(node.parent or node))
            elif kind == STRING and isinstance(value, int | float | decimal.Decimal):
                return quote_string(as_text(value))
        return self.write(node)

    def _literal(self, node: exp.Literal) -> str:
        if node.is_string:
            return quote_string(node.this)
        if not _NUMBER.fullmatch(node.this):
            raise NotSupportedError(f"numeric literal {node.this!r}")
        return node.this

    def _like_escape(self, node: exp.Escape) -> str:
        """``LIKE <constant pattern> ESCAPE 'c'``: the pattern (literals, parameters and
        ``||`` of them, e.g. SQLAlchemy's ``contains(autoescape=True)``) rewritten with the
        query language's backslash escapes; anything else is computed in Python."""
        like = node.this
        check_args(like)
        escape = node.expression
        if not (isinstance(escape, exp.Literal) and escape.is_string and len(escape.this) == 1):
            raise Untranslatable("LIKE ... ESCAPE with a computed escape")
        pattern = self._constant_text(like.expression)
        parts = []
        characters = iter(pattern)
        for char in characters:
            if char == escape.this:
                escaped = next(characters, None)
                if escaped is None:
                    raise Untranslatable("a LIKE pattern ending with its escape character")
                parts.append("\\" + escaped if escaped in "%_\\" else escaped)
            else:
                parts.append("\\\\" if char == "\\" else char)
        operator = "not like" if like.args.get("negate") else "like"
        return f"({self.write(like.this)} {operator} {quote_string(''.join(parts))})"

    def _constant_text(self, node: exp.Expr) -> str:
        if isinstance(node, exp.Paren):
            return self._constant_text(node.this)
        if isinstance(node, exp.DPipe):
            check_args(node)
            return self._constant_text(node.left) + self._constant_text(node.right)
        if isinstance(node, exp.Literal) and node.is_string:
            return str(node.this)
        if isinstance(node, exp.Placeholder):
            value = parameter(node, self.params)
            if isinstance(value, str):
                return value
        raise Untranslatable("a LIKE pattern that is not constant text")

    def _like_pattern(self, node: exp.Expr) -> str:
        """SQL LIKE (no ESCAPE clause) has no escape character; the query language's LIKE
        escapes with backslash, so a backslash in the pattern is doubled to stay literal."""
        if isinstance(node, exp.Literal) and node.is_string:
            pattern: object = node.this
        elif isinstance(node, exp.Placeholder):
            pattern = parameter(node, self.params)
        else:
            raise Untranslatable("LIKE with a computed pattern")
        if pattern is None:
            raise Untranslatable("LIKE NULL")
        if not isinstance(pattern, str):
            raise Untranslatable("LIKE with a non-text pattern")
        return quote_string(pattern.replace("\\", "\\\\"))

    def _in(self, node: exp.In) -> str:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise NotSupportedError(f"IN with a subquery is not supported: {node.sql()}")
        items = ", ".join(self._compared(item, node.this) for item in node.expressions)
        return f"({self.write(node.this)} in ({items}))"
