"""The part of a SELECT computed in Python over streamed catalogue rows: the filter the query
language cannot express, GROUP BY and aggregates, DISTINCT, ORDER BY, OFFSET and LIMIT.

Filtering and projection stream; grouping holds one accumulator per group; sorting holds the
result (as a database does). NULL sorts as the smallest value (NULLS FIRST ascending, NULLS
LAST descending), as the SQL dialect we parse with defines it, unless the statement says
``NULLS FIRST``/``NULLS LAST``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Any

from bookkeeping.jdbc_compat.evaluate import Evaluator, Row, is_number
from bookkeeping.jdbc_compat.exceptions import ProgrammingError


@dataclass(frozen=True)
class Aggregate:
    function: str  # count, min, max, sum, avg
    argument: Evaluator | None  # None: COUNT(*)
    distinct: bool = False

    def compute(self, rows: list[Row]) -> Any:
        if self.argument is None:
            return len(rows)
        values = [v for row in rows if (v := self.argument(row)) is not None]
        if self.distinct:
            values = list(dict.fromkeys(values))
        if self.function == "count":
            return len(values)
        if not values:
            return None
        if self.function in {"min", "max"}:
            try:
                return min(values) if self.function == "min" else max(values)
            except TypeError:
                raise ProgrammingError(
                    f"{self.function.upper()} over values of different types: {_types_of(values)}"
                ) from None
        if not all(is_number(v) for v in values):
            raise ProgrammingError(
                f"{self.function.upper()} needs numbers, got {_types_of(values)}"
            )
        if any(isinstance(v, float) for v in values):
            values = [float(v) for v in values]  # a double meeting a decimal: doubles
        total = sum(values)
        if self.function == "sum":
            return total
        return total / len(values)  # Decimal stays Decimal, int and float give float


@dataclass(frozen=True)
class Composite:
    """An expression over aggregates: ``values`` receives each aggregate's result for the
    group, then ``evaluator`` reads them (and constants) to give the output."""

    aggregates: list[Aggregate]
    values: list[Any]
    evaluator: Evaluator

    def compute(self, rows: list[Row]) -> Any:
        for index, aggregate in enumerate(self.aggregates):
            self.values[index] = aggregate.compute(rows)
        return self.evaluator(rows[0] if rows else ())


@dataclass(frozen=True)
class SortKey:
    slot: int  # position in the output row (hidden columns follow the visible ones)
    descending: bool
    nulls_first: bool


@dataclass
class Pipeline:
    outputs: list[Evaluator | Aggregate | Composite]
    width: int  # visible columns; outputs beyond it only feed ORDER BY
    keep: Evaluator | None = None
    group_keys: list[Evaluator] | None = None  # None: no grouping; []: one group of all rows
    distinct: bool = False
    order: list[SortKey] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None

    def run(self, rows: Iterable[Row]) -> Iterator[tuple[Any, ...]]:
        if self.keep is not None:
            keep = self.keep
            rows = (row for row in rows if keep(row) is True)
        if self.group_keys is None:
            produced: Iterable[tuple[Any, ...]] = (self._project(row) for row in rows)
        else:
            produced = self._grouped(rows)
        if self.distinct:
            produced = _unique(produced)
        if self.order:
            produced = sorted(produced, key=cmp_to_key(self._compare))
        stop = None if self.limit is None else self.offset + self.limit
        for row in itertools.islice(produced, self.offset, stop):
            yield row[: self.width]

    def _project(self, row: Row) -> tuple[Any, ...]:
        return tuple(output(row) for output in self.outputs)  # type: ignore[operator]

    def _grouped(self, rows: Iterable[Row]) -> Iterator[tuple[Any, ...]]:
        assert self.group_keys is not None
        groups: dict[tuple[Any, ...], list[Row]] = {}
        for row in rows:
            groups.setdefault(tuple(key(row) for key in self.group_keys), []).append(row)
        if not groups and not self.group_keys:
            groups[()] = []  # aggregates over no rows still give one row
        for members in groups.values():
            yield tuple(
                output.compute(members)
                if isinstance(output, Aggregate | Composite)
                else output(members[0])
                for output in self.outputs
            )

    def _compare(self, left: tuple[Any, ...], right: tuple[Any, ...]) -> int:
        for key in self.order:
            a, b = left[key.slot], right[key.slot]
            if a == b or (a is None and b is None):
                continue
            if a is None or b is None:
                a_first = (a is None) == key.nulls_first
                return -1 if a_first else 1
            try:
                result = -1 if a < b else 1
            except TypeError:
                raise ProgrammingError(
                    f"ORDER BY: cannot order {type(a).__name__} {a!r} and {type(b).__name__} {b!r}"
                ) from None
            return -result if key.descending else result
        return 0


def _types_of(values: list[Any]) -> str:
    return " and ".join(sorted({type(v).__name__ for v in values}))


def _unique(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        if row not in seen:
            seen.add(row)
            yield row
