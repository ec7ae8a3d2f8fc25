"""The roottree entries of a selection with the writers' delta rows summed beside them,
as one prepared statement (``engine.prepared``) for sessions in this process.

Over the query language that is two statements (the entries, then the deltas joined to
them and summed by combination), and the call's schema-version read a third. Here the
deltas are a grouped subquery LEFT JOINed to the entries (an entry without deltas gets
NULLs, which sum to nothing), restricted to the selected entries' names so that the
database sums only their deltas; and the prepared read carries the schema version in the
same statement when the call has not validated it yet. ``level_values`` is then one
statement, like the warehouse's, and a page of ``files`` two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.engine.prepared import Builder, Prepared, Source
from bookkeeping.amga_adapter.query.constructs import binary_match

# The roottree twice (the entries; the selected names the deltas are summed for), then the
# deltas.
DIRECTORIES = (V.ROOTTREE, V.ROOTTREE, V.DELTAS)
_SUMS = (
    ("files", sa.func.sum, "FILES"),
    ("events", sa.func.sum, "NBEVENTS"),
    ("bytes", sa.func.sum, "BYTES"),
    ("low", sa.func.min, "MINPRODUCTION"),
    ("high", sa.func.max, "MAXPRODUCTION"),
)


def entry_rows(prepared: Any, selection: Mapping[str, object]) -> list[tuple[Any, ...]]:
    """The entries whose roottree ``attribute = value`` for every item of ``selection``:
    rows of the entry name, the key attributes, the description, the shard, the summary
    attributes, then the deltas' sums (files, events, bytes, lowest and highest production;
    NULLs without deltas). ``prepared``: the session's ``PreparedReads``."""
    attributes = tuple(selection)
    params = {f"value{index}": selection[name] for index, name in enumerate(attributes)}
    _, found = prepared.rows(("view entries", attributes), DIRECTORIES, _build(attributes), params)
    return [tuple(row) for row in found]


def _build(attributes: Sequence[str]) -> Builder[None]:
    def selected(source: Source) -> list[sa.ColumnElement[bool]]:
        return [
            binary_match(source[name]) == sa.bindparam(f"value{index}")
            for index, name in enumerate(attributes)
        ]

    def build(sources: Sequence[Source]) -> Prepared[None]:
        entries, names, deltas = sources
        summed = sa.select(
            deltas["COMBINATION"].label("combination"),
            *(function(deltas[name]).label(label) for label, function, name in _SUMS),
        ).select_from(deltas.table)
        if attributes:  # sum only the selected entries' deltas
            chosen = sa.select(names.entry_name).select_from(names.table).where(*selected(names))
            summed = summed.where(binary_match(deltas["COMBINATION"]).in_(chosen))
        sums = summed.group_by(deltas["COMBINATION"]).subquery("deltas")
        joined = entries.table.outerjoin(
            sums, binary_match(sums.c.combination) == binary_match(entries.entry_name)
        )
        statement = (
            sa.select(
                entries.entry_name,
                *(entries[name] for name in V.KEY_ATTRIBUTES),
                entries["EVENTDESCRIPTION"],
                entries["SHARD"],
                *(entries[name] for name in V.SUMMARY_ATTRIBUTES),
                *(sums.c[label] for label, _, _ in _SUMS),
            )
            .select_from(joined)
            .where(*selected(entries))
        )
        return Prepared(statement, None)

    return build
