"""The kls-style listing on the warehouse: which files, and their copies folded per file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Row

from bookkeeping.interface import ListedFile, ListingQuery
from bookkeeping.warehouse.conditions import compile_condition
from bookkeeping.warehouse.fileview import FileView
from bookkeeping.warehouse.tables import files, replicas


def listing_filters(view: FileView, query: ListingQuery) -> list[sa.ColumnElement[bool]]:
    filters = [view["filetype"] == query.file_type]
    if query.where is not None:
        filters.append(compile_condition(query.where, view))
    if query.disk_only:
        copy = replicas.alias("disk_copy")
        filters.append(
            sa.exists()
            .where(
                copy.c.file_id == files.c.file_id,
                copy.c.storageclass.in_(["disk", "recall"]),
                copy.c.status == "available",
            )
            .correlate(files)
        )
    return filters


def listing_select(view: FileView, query: ListingQuery, lfn_order: sa.ColumnElement) -> sa.Select:
    """One row per (file, available copy), a file's rows together, files in LFN order."""
    available = sa.and_(replicas.c.file_id == files.c.file_id, replicas.c.status == "available")
    filters = listing_filters(view, query)
    return (
        sa.select(
            view["fileid"], view["lfn"], view["size"], replicas.c.storageclass, replicas.c.area
        )
        .select_from(view.source.outerjoin(replicas, available))
        .where(*filters)
        .order_by(lfn_order, view["fileid"])
    )


def group_locations(rows: Iterable[Row]) -> Iterator[ListedFile]:
    """Fold the (file, copy) rows of one file, which arrive together, into one line."""
    current: tuple[int, str, int] | None = None
    classes: set[str] = set()
    areas: list[str] = []
    for file_id, lfn, size, storage_class, area in rows:
        if current is None or current[0] != file_id:
            if current is not None:
                yield _listed(current, classes, areas)
            current, classes, areas = (file_id, lfn, int(size)), set(), []
        if storage_class is not None:
            classes.add(storage_class)
            if storage_class == "recall":
                areas.append(area)
    if current is not None:
        yield _listed(current, classes, areas)


def _listed(current: tuple[int, str, int], classes: set[str], areas: list[str]) -> ListedFile:
    _file_id, lfn, size = current
    return ListedFile(
        lfn=lfn,
        size=size,
        on_disk="disk" in classes,
        on_tape="tape" in classes,
        recalled=tuple(sorted(areas)),
    )
