"""``bk views fold-copies``: the copy folds (``COPYKINDS``, ``COPYSITES``) of the shard rows
written before the views had them, from the site directories; online, beside the writers.

A writer gives every row it writes or changes its fold (the report's copies, or the copies
a change leaves), in the transaction of the change; a row written before the folds existed
keeps NULL, and the storage share reads that file's copies in the site directories
instead (``views/share.py``): correct, only slower. This fills those rows, 500 files at a
time in file-id order: their copies read, the fold computed (``derive.copy_fold``, as the
writers do), and written only where the row still has none (``COPYKINDS is null``). A
writer that changed a file's copies meanwhile gave its row the fold of its new copies, so
a fold computed from the copies read before is never written over it. Each update is one
statement on one shard; one the database aborts (a lock cycle with a writer) is taken
again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows, site_union
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.derive import copy_fold
from bookkeeping.amga_adapter.bookkeeping.views.maintain import ensure_copy_folds
from bookkeeping.amga_adapter.engine.errors import TransactionError
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.chunking import chunked
from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.retry import retrying

CHUNK = 500  # files per read of their copies and per update
_COPY_ITEMS = ["FILE", "FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA"]

Progress = Callable[[int, int], None]  # (shards done, shards in all)


def fold_copies(session: CatalogueSession, progress: Progress | None = None) -> int:
    """Fold the copies of every shard row without a fold; returns the rows folded."""
    ensure_copy_folds(session)
    shards = sorted(str(s) for (s,) in rows(session, [f"{V.ROOTTREE}:SHARD"]) if s)
    folded = 0
    for done, shard in enumerate(shards):
        folded += _fold_shard(session, shard)
        if progress is not None:
            progress(done + 1, len(shards))
    return folded


def _fold_shard(session: CatalogueSession, shard: str) -> int:
    folded, after = 0, -1
    while True:
        condition = (
            f"{shard}:COPYKINDS is null and {shard}:FILE_ID > {int(after)}"
            f" order by {shard}:FILE_ID limit {CHUNK}"
        )
        file_ids = [int(file_id) for (file_id,) in rows(session, [f"{shard}:FILE_ID"], condition)]
        if not file_ids:
            return folded
        after = file_ids[-1]
        folded += _fold(session, shard, file_ids)


def _index(copy: tuple[int, str, dict[str, object]]) -> int:
    return copy[0]


def _fold(session: CatalogueSession, shard: str, file_ids: list[int]) -> int:
    """Fold ``file_ids`` of ``shard``: one update per distinct fold."""
    sites = [path for path, kind in session.dir(BL.REPLICAS) if kind == "collection"]
    copies: dict[int, list[tuple[int, str, dict[str, object]]]] = defaultdict(list)
    found = site_union(session, sites, _COPY_ITEMS, f"FILE_ID in {BL.literal_list(file_ids)}")
    for directory, name, file_id, *values in found:
        site = str(directory).rsplit("/", 1)[-1]
        index = int(str(name).rsplit("_", 1)[1])
        copies[int(file_id)].append((index, site, dict(zip(_COPY_ITEMS[2:], values, strict=True))))
    by_fold: dict[tuple[int, str], list[str]] = defaultdict(list)
    for file_id in file_ids:
        ordered = sorted(copies.get(file_id, []), key=_index)
        kinds, joined = copy_fold((site, values) for _, site, values in ordered)
        if kinds is not None and joined is not None:  # unfoldable: the share reads them
            by_fold[(kinds, joined)].append(str(file_id))
    changed = 0
    for (kinds, joined), names in sorted(by_fold.items()):
        assignments = [("COPYKINDS", BL.literal(kinds)), ("COPYSITES", BL.literal(joined))]
        for chunk in chunked(names, CHUNK):
            condition = f"FILE in {BL.literal_list(chunk)} and COPYKINDS is null"
            changed += retrying(
                lambda: session.updateattr(shard, assignments, condition),  # noqa: B023
                retry_on=lambda exc: isinstance(exc, TransactionError | DatabaseUnavailable),
            )
    return changed
