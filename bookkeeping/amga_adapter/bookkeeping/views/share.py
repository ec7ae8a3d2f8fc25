"""``Bookkeeping.storage_share`` of a dataset as one prepared statement over its shards and
the site directories (in-process catalogue with views, ``local.CatalogueBookkeeping``).

The files come from the shards the roottree names (the path's file and production filters
in each shard's branch, as ``builder.production_filter`` has them); their copies from a
semi-join of each site directory on those files (``FILE_ID IN (selected)``: a probe of the
site's FILE_ID index per selected file, or one pass over a small site). Each file's storage
kinds are folded in SQL as ``dataset_filters.storage_kinds`` folds them in Python, the copy
filters (``site``, ``storage``) are conditions on those folds, and the totals and the
per-site sums come back as the rows of one union. So the work follows the files the
filters select, in one round trip, instead of reading them and their copies 500 at a time
(``copy_filters.share``, still the path over the AMGA protocol and without views).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.derive import KIND_BITS
from bookkeeping.amga_adapter.engine.prepared import Prepared, Source
from bookkeeping.amga_adapter.query.constructs import binary_match
from bookkeeping.dataset_filters import kinds_of_classes
from bookkeeping.interface import AVAILABLE, DatasetPath, SiteShare, StorageShare

# DatasetPath range filter -> shard attribute (as builder._FILTER_ATTRIBUTES).
_RANGES = {
    "run_range": "RUN",
    "created_range": "WRITDAT",
    "events_range": "NBEVT",
    "size_range": "FSIZ",
}
_COPY_ITEMS = ("FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA")


def shape(path: DatasetPath) -> tuple[Any, ...]:
    """What the statement depends on besides its directories: which bounds are set."""
    ranges = tuple(
        None if getattr(path, name) is None else tuple(v is not None for v in getattr(path, name))
        for name in _RANGES
    )
    return (
        path.production is not None,
        path.production_range is not None,
        ranges,
        path.quality is not None,
        path.site is not None,
        path.storage,
    )


def params(path: DatasetPath) -> dict[str, Any]:
    """The bound values of ``path`` for the statement of its ``shape``."""
    values: dict[str, Any] = {}
    if path.production is not None:
        values["production"] = path.production
    if path.production_range is not None:
        values["production_low"], values["production_high"] = path.production_range
    for name in _RANGES:
        bounds = getattr(path, name)
        if bounds is not None:
            low, high = bounds
            if low is not None:
                values[f"{name}_low"] = _naive(low)
            if high is not None:
                values[f"{name}_high"] = _naive(high)
    if path.quality is not None:
        values["quality"] = path.quality
    if path.site is not None:
        values["site"] = path.site
    return values


def _naive(value: int | datetime) -> int | datetime:
    # The shards' WRITDAT is a timestamp without zone, in UTC (as the query language
    # compares an ISO string with it).
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _shard_conditions(shard: Source, path: DatasetPath) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if path.production is not None:
        conditions.append(shard["PRODUCTION"] == sa.bindparam("production"))
    if path.production_range is not None:
        conditions.append(shard["PRODUCTION"] >= sa.bindparam("production_low"))
        conditions.append(shard["PRODUCTION"] <= sa.bindparam("production_high"))
    for name, attribute in _RANGES.items():
        bounds = getattr(path, name)
        if bounds is None:
            continue
        column = shard[attribute]
        low, high = bounds
        if low is not None:
            conditions.append(column >= sa.bindparam(f"{name}_low", type_=column.type))
        if high is not None:
            conditions.append(column <= sa.bindparam(f"{name}_high", type_=column.type))
        if low is None and high is None:
            conditions.append(column.is_not(None))
    if path.quality is not None:
        quality = shard["QUALITY"]
        conditions.append(
            binary_match(quality) == binary_match(sa.bindparam("quality", type_=quality.type))
        )
    return conditions


def folded(shard: Source) -> bool:
    """Whether ``shard`` has the copy folds (``derive.copy_fold``; a shard made before them
    lacks them until a writer adds them)."""
    return all(shard.has(name) for name in V.COPY_FOLD_ATTRIBUTES)


def folded_builder(path: DatasetPath, shard_count: int) -> Any:
    """Builder over ``shard_count`` shards: the files ``path`` selects (its copy filters
    aside), grouped by their copy fold: rows (COPYKINDS, COPYSITES, files, bytes), a NULL
    fold for the files not folded yet; meta: whether every shard has the folds. One pass
    over the selected rows of the shards, no site directory read: the groups are few (the
    kinds times the sets of sites), and ``folded_share`` applies the copy filters to them."""

    def build(sources: Sequence[Source]) -> Prepared[bool]:
        shards = sources[:shard_count]
        branches = [
            sa.select(
                shard["COPYKINDS"].label("kinds"),
                shard["COPYSITES"].label("sites"),
                sa.func.coalesce(shard["FSIZ"], 0).label("size"),
            ).where(*_shard_conditions(shard, path))
            for shard in shards
            if folded(shard)
        ]
        if not branches:
            empty = sa.select(
                sa.cast(sa.null(), sa.SmallInteger()).label("kinds"),
                sa.cast(sa.null(), sa.String(255)).label("sites"),
                sa.cast(sa.null(), sa.BigInteger()).label("size"),
            ).where(sa.false())
            branches = [empty]
        files = (sa.union_all(*branches) if len(branches) > 1 else branches[0]).subquery("files")
        statement = sa.select(
            files.c.kinds,
            files.c.sites,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(files.c.size), 0),
        ).group_by(files.c.kinds, files.c.sites)
        return Prepared(statement, all(folded(shard) for shard in shards))

    return build


def folded_share(path: DatasetPath, rows: Sequence[Sequence[Any]]) -> tuple[StorageShare, bool]:
    """The share of the folded files (``folded_builder``'s rows) under the copy filters of
    ``path``, as the statement over the site directories computes it (a file is "tape"
    when its only available copies are on tape); and whether some files are not folded."""
    totals = [0] * 9
    sites: dict[str, list[int]] = {}
    unfolded = False
    for kinds, joined, count, size in rows:
        if kinds is None:
            unfolded = unfolded or bool(count)
            continue
        files, size = int(count), int(size)
        meets = kinds_of_classes({name for name, bit in KIND_BITS.items() if int(kinds) & bit})
        disk, tape, recalled = ("disk" in meets), ("tape" in meets), ("recalled" in meets)
        at = str(joined).split(",") if joined else []
        if path.site is not None and path.site not in at:
            continue
        if path.storage is not None and path.storage not in meets:
            continue
        for index, kept in enumerate((True, disk, tape, recalled)):
            if kept:
                totals[2 * index] += files
                totals[2 * index + 1] += size
        if disk or recalled:
            totals[8] += files
        for site in at:
            part = sites.setdefault(site, [0, 0])
            part[0] += files
            part[1] += size
    return _made(totals, [SiteShare(site, f, b) for site, (f, b) in sites.items() if f]), unfolded


def plus(one: StorageShare, other: StorageShare) -> StorageShare:
    """The share of two disjoint sets of files."""
    sites: dict[str, list[int]] = {}
    for item in (*one.sites, *other.sites):
        part = sites.setdefault(item.site, [0, 0])
        part[0] += item.files
        part[1] += item.bytes
    totals = [a + b for a, b in zip(_figures(one), _figures(other), strict=True)]
    return _made(totals, [SiteShare(site, f, b) for site, (f, b) in sites.items()])


def _figures(share: StorageShare) -> list[int]:
    return [
        share.files, share.bytes, share.disk_files, share.disk_bytes, share.tape_files,
        share.tape_bytes, share.recalled_files, share.recalled_bytes,
        share.disk_or_recalled_files,
    ]  # fmt: skip


def _made(totals: Sequence[int], sites: Sequence[SiteShare]) -> StorageShare:
    files, size, disk, disk_bytes, tape, tape_bytes, recalled, recalled_bytes, on_disk = totals
    return StorageShare(
        files, size, disk, disk_bytes, tape, tape_bytes, recalled, recalled_bytes, on_disk,
        tuple(sorted(sites)),
    )  # fmt: skip


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.max(sa.case((condition, 1), else_=0))


def builder(path: DatasetPath, shard_count: int) -> Any:
    """Builder over ``shard_count`` shards then every site directory: rows (site name, or
    "" for the totals, files, bytes, disk files, disk bytes, tape files, tape bytes, recalled
    files, recalled bytes, files with a disk or recall copy; a site's row has its files and
    bytes only); meta: the site names."""

    def build(sources: Sequence[Source]) -> Prepared[tuple[str, ...]]:
        shards, sites = sources[:shard_count], sources[shard_count:]
        selected = sa.union_all(
            *(
                sa.select(shard["FILE_ID"].label("file_id"), shard["FSIZ"].label("size")).where(
                    *_shard_conditions(shard, path),
                    # the folded files are counted by folded_builder's statement
                    *([shard["COPYKINDS"].is_(None)] if folded(shard) else []),
                )
                for shard in shards
            )
        ).cte("selected")
        names = tuple(source.path.rsplit("/", 1)[-1] for source in sites)
        branches = [
            sa.select(
                sa.literal(names[index]).label("site"),
                site["FILE_ID"].label("file_id"),
                site["STORAGECLASS"].label("storage_class"),
            ).where(
                site["FILE_ID"].in_(sa.select(selected.c.file_id)),
                site["STATUS"] == sa.literal(AVAILABLE),
                site["AREA"].is_not(None),
                site["REPLICA"].is_not(None),
            )
            for index, site in enumerate(sites)
            if all(site.has(item) for item in _COPY_ITEMS)  # one being created: no copies
        ]
        if branches:
            copies = (sa.union_all(*branches) if len(branches) > 1 else branches[0]).cte("copies")
        else:
            copies = (
                sa.select(
                    sa.cast(sa.null(), sa.String(64)).label("site"),
                    sa.cast(sa.null(), sa.BigInteger()).label("file_id"),
                    sa.cast(sa.null(), sa.String(64)).label("storage_class"),
                )
                .where(sa.false())
                .cte("copies")
            )
        kind = copies.c.storage_class
        folds = [
            _flag(kind == sa.literal("disk")).label("disk"),
            _flag(kind == sa.literal("recall")).label("recall"),
            _flag(kind == sa.literal("tape")).label("tape"),
        ]
        if path.site is not None:
            folds.append(_flag(copies.c.site == sa.bindparam("site")).label("at_site"))
        kinds = sa.select(copies.c.file_id, *folds).group_by(copies.c.file_id).cte("kinds")
        disk = sa.func.coalesce(kinds.c.disk, 0) == 1
        recalled = sa.func.coalesce(kinds.c.recall, 0) == 1
        tape = sa.and_(sa.func.coalesce(kinds.c.tape, 0) == 1, ~disk, ~recalled)
        kept: list[sa.ColumnElement[bool]] = []
        if path.site is not None:
            kept.append(sa.func.coalesce(kinds.c.at_site, 0) == 1)
        if path.storage is not None:
            kept.append({"disk": disk, "tape": tape, "recalled": recalled}[path.storage])
        joined = selected.outerjoin(kinds, kinds.c.file_id == selected.c.file_id)
        size = sa.func.coalesce(selected.c.size, 0)

        def sums(condition: sa.ColumnElement[bool] | None) -> list[sa.ColumnElement[Any]]:
            if condition is None:
                return [sa.func.count(), sa.func.coalesce(sa.func.sum(size), 0)]
            return [
                sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0),
                sa.func.coalesce(sa.func.sum(sa.case((condition, size), else_=0)), 0),
            ]

        totals = (
            sa.select(
                sa.cast(sa.literal(""), sa.String(64)).label("site"),
                *sums(None),
                *sums(disk),
                *sums(tape),
                *sums(recalled),
                sums(sa.or_(disk, recalled))[0],
            )  # fmt: skip
            .select_from(joined)
            .where(*kept)
        )
        at_site = sa.select(copies.c.site, copies.c.file_id).distinct().subquery("at_site")
        zero = [sa.literal(0)] * 7
        per_site = (
            sa.select(at_site.c.site, *sums(None), *zero)
            .select_from(joined.join(at_site, at_site.c.file_id == selected.c.file_id))
            .where(*kept)
            .group_by(at_site.c.site)
        )
        return Prepared(sa.union_all(totals, per_site), names)

    return build


def share(rows: Sequence[Sequence[Any]]) -> StorageShare:
    """The ``StorageShare`` of the statement's rows (the totals row has site "")."""
    totals = [0] * 9
    sites = []
    for site, *values in rows:
        if site == "":
            totals = [int(value) for value in values]
        elif int(values[0]):
            sites.append(SiteShare(str(site), int(values[0]), int(values[1])))
    files, size, disk, disk_bytes, tape, tape_bytes, recalled, recalled_bytes, on_disk = totals
    return StorageShare(
        files, size, disk, disk_bytes, tape, tape_bytes, recalled, recalled_bytes, on_disk,
        tuple(sorted(sites)),
    )  # fmt: skip
