"""Compile a listing condition (``bookkeeping.interface.Condition``) to a SQL expression.

Values are bound parameters; attribute names come from ``LISTING_ATTRIBUTES`` only, so no
text of the user's ever reaches the SQL. A comparison with a missing value (a file with no
run number, no quality flag) is unknown, as in SQL: neither it nor its negation matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bookkeeping.interface import LISTING_ATTRIBUTES, Comparison, Condition, Logical, Not
from bookkeeping.warehouse.fileview import FileView

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_condition(condition: Condition, view: FileView) -> sa.ColumnElement[bool]:
    if isinstance(condition, Logical):
        parts = [compile_condition(item, view) for item in condition.items]
        return sa.and_(*parts) if condition.op == "and" else sa.or_(*parts)
    if isinstance(condition, Not):
        return sa.not_(compile_condition(condition.item, view))
    return _comparison(condition, view)


def _comparison(comparison: Comparison, view: FileView) -> sa.ColumnElement[bool]:
    if comparison.attribute not in LISTING_ATTRIBUTES:
        raise ValueError(f"unknown listing attribute {comparison.attribute!r}")
    column = view[comparison.attribute]
    if comparison.op == "in":
        return column.in_(list(comparison.values))
    return _OPERATORS[comparison.op](column, comparison.values[0])
