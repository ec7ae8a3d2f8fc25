"""Plans -> calls on a :class:`Backend`; the result of one executed statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from bookkeeping.jdbc_compat.backend import Backend
from bookkeeping.jdbc_compat.exceptions import DataError, NotSupportedError
from bookkeeping.jdbc_compat.fetch import MAX_RESTRICTED_KEYS, Restriction
from bookkeeping.jdbc_compat.plans import (
    CreateTable,
    DeleteEntries,
    DropTable,
    InsertRows,
    JoinRows,
    JoinStep,
    Plan,
    ResultColumn,
    RewriteEntries,
    SelectRows,
    UpdateEntries,
)


@dataclass
class Outcome:
    rows: Iterator[tuple[object, ...]] | None = None
    columns: tuple[ResultColumn, ...] | None = None
    rowcount: int = -1


def is_write(plan: Plan | None) -> bool:
    return isinstance(plan, InsertRows | UpdateEntries | DeleteEntries | RewriteEntries)


def is_schema_change(plan: Plan | None) -> bool:
    return isinstance(plan, CreateTable | DropTable)


def run(plan: Plan | None, backend: Backend) -> Outcome:
    if plan is None:
        return Outcome()
    if isinstance(plan, SelectRows):
        for semijoin in plan.semijoins:
            semijoin.load(backend)
        rows = backend.selectattr(plan.query.items, plan.query.condition, plan.query.types)
        if plan.pipeline is not None:
            rows = plan.pipeline.run(rows)
        return Outcome(rows=iter(rows), columns=plan.columns)
    if isinstance(plan, JoinRows):
        for semijoin in plan.semijoins:
            semijoin.load(backend)
        return Outcome(rows=iter(plan.pipeline.run(_joined(plan, backend))), columns=plan.columns)
    if isinstance(plan, InsertRows):
        return Outcome(rowcount=_insert(plan, backend))
    if isinstance(plan, UpdateEntries):
        return Outcome(
            rowcount=backend.updateattr(plan.directory, plan.assignments, plan.condition)
        )
    if isinstance(plan, DeleteEntries):
        names = list(backend.find(plan.directory, plan.condition))
        for name in names:
            backend.rm_entry(plan.directory, name)
        return Outcome(rowcount=len(names))
    if isinstance(plan, RewriteEntries):
        return Outcome(rowcount=_rewrite(plan, backend))
    if isinstance(plan, CreateTable):
        _create(plan, backend)
        return Outcome()
    if isinstance(plan, DropTable):
        if plan.directory is not None:
            if backend.subdirectories(plan.directory):
                raise NotSupportedError(f"DROP TABLE of {plan.directory}: it holds sub-directories")
            backend.rmdir(plan.directory)
        return Outcome()
    raise AssertionError(f"unknown plan {plan!r}")


def _joined(plan: JoinRows, backend: Backend) -> list[list[object]]:
    """The joined rows (each a list laid out as the plan's columns; NULL where a LEFT JOIN
    found nothing). Each part is read when its turn comes, so that it can be restricted to
    the keys the rows so far hold."""
    current = list(plan.fetches[0].rows(backend, plan.width))
    for step in plan.steps:
        if not current:
            return []  # nothing to join to, inner or outer
        fetch = plan.fetches[step.index]
        right = list(fetch.rows(backend, plan.width, _restriction(current, step)))
        current = _join_step(current, right, fetch.slots, step)
    return current


def _restriction(current: list[list[object]], step: JoinStep) -> Restriction:
    """Read only the joined table's rows whose key the rows so far hold, when they hold few."""
    for key, column in step.restrict:
        evaluate = step.left_keys[key]
        values = {value for row in current if (value := evaluate(row)) is not None}
        if len(values) > MAX_RESTRICTED_KEYS:
            return None
        try:
            return column, sorted(values)
        except TypeError:  # values of mixed types: any order will do
            return column, list(values)
    return None


def _join_step(
    left: list[list[object]], right: list[list[object]], slots: tuple[int, ...], step: JoinStep
) -> list[list[object]]:
    index: dict[tuple[object, ...], list[list[object]]] = {}
    if step.right_keys:
        for row in right:
            key = tuple(k(row) for k in step.right_keys)
            if None not in key:  # NULL equals nothing
                index.setdefault(key, []).append(row)
    joined = []
    for row in left:
        if step.left_keys:
            key = tuple(k(row) for k in step.left_keys)
            candidates = [] if None in key else index.get(key, [])
        else:
            candidates = right
        matched = False
        for other in candidates:
            merged = list(row)
            for position in slots:
                merged[position] = other[position]
            if step.condition is None or step.condition(merged) is True:
                joined.append(merged)
                matched = True
        if step.outer and not matched:
            joined.append(list(row))
    return joined


def _insert(plan: InsertRows, backend: Backend) -> int:
    entries = []
    for row in plan.rows:
        if plan.name_slot is None:
            name = uuid.uuid4().hex
        else:
            given = row[plan.name_slot]
            if not isinstance(given, str) or not given or "/" in given:
                raise DataError(
                    f"entry name (FILE) must be a non-empty text without '/': {given!r}"
                )
            name = given
        values = {
            attribute: value
            for i, (attribute, value) in enumerate(zip(plan.attributes, row, strict=True))
            if i != plan.name_slot
        }
        entries.append((name, values))
    return backend.addentries(plan.directory, entries)


def _rewrite(plan: RewriteEntries, backend: Backend) -> int:
    # Materialised first: changing entries while their query still streams is not portable.
    rows = list(backend.selectattr(plan.query.items, plan.query.condition, plan.query.types))
    count = 0
    for row in rows:
        if plan.keep is not None and plan.keep(row) is not True:
            continue
        name = str(row[0])
        if plan.values is None:
            backend.rm_entry(plan.directory, name)
        else:
            backend.setattr(
                f"{plan.directory}/{name}", {attr: value(row) for attr, value in plan.values}
            )
        count += 1
    return count


def _create(plan: CreateTable, backend: Backend) -> None:
    backend.createdir(plan.directory)
    for name, type_ in plan.attributes:
        backend.addattr(plan.directory, name, type_)
    for name in plan.not_null:
        backend.constraint_add_not_null(plan.directory, name)
    for columns in plan.unique:
        backend.constraint_add_unique(plan.directory, columns)
