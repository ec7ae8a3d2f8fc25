"""``mark_copies_at`` in the catalogue: the copies an SE reports lost or corrupted, marked in
one transaction with a fixed number of statements per ``IN_CHUNK`` files.

1. the files' ``/files`` entries are locked (``VISIBLE`` set to itself, as every change
   does, so changes of the same files take turns) and their ids read by LFN (``select_in``);
2. their copies on the SE are read from every site directory in one union (the SE's site is
   the catalogue's to know, not the caller's);
3. the copies in another status are updated, one ``updateattr`` per site directory;
4. ``then`` runs on the transaction's connection, and it commits.

A status change moves no file between the views' combinations (they hold visibility and
sites, not statuses); with views, the changed files' copy folds (which count available
copies only) are computed again in the same transaction (``views.changes.refold``). A
transaction that collides with
another writer is taken again, as ``changes.apply`` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import site_union
from bookkeeping.amga_adapter.bookkeeping.changes import _PLAN_AGAIN, ATTEMPTS, IN_CHUNK
from bookkeeping.amga_adapter.bookkeeping.views.changes import refold
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.chunking import chunked
from bookkeeping.retry import retrying
from bookkeeping.writer.changes import MarkedCopies, ThenHook, checked_marks


def mark_copies_at(
    session: CatalogueSession,
    se: str,
    copies: Mapping[str, str],
    status: str,
    then: ThenHook | None,
    *,
    views: bool = False,
) -> MarkedCopies:
    wanted = checked_marks(se, copies, status)
    by_lfn: dict[str, set[str]] = defaultdict(set)
    for path, lfn in wanted.items():
        by_lfn[lfn].add(path)
    lfns = sorted(by_lfn)

    def attempt() -> MarkedCopies:
        session.begin()
        try:
            marked = _mark(session, se, by_lfn, lfns, status, views)
            if then is not None:
                connection = session.connection_in_transaction
                if connection is None:  # a remote session: no transaction to join
                    raise RuntimeError("mark_copies_at(then=...) needs a local catalogue")
                then(connection, marked)
        except BaseException:
            session.abort()
            raise
        session.commit()
        return marked

    return retrying(attempt, retry_on=lambda exc: isinstance(exc, _PLAN_AGAIN), attempts=ATTEMPTS)


def _mark(
    session: CatalogueSession,
    se: str,
    by_lfn: Mapping[str, set[str]],
    lfns: list[str],
    status: str,
    views: bool,
) -> MarkedCopies:
    for chunk in chunked(lfns, IN_CHUNK):
        session.updateattr(L.FILES, [("VISIBLE", "VISIBLE")], f"LOGNAME in {L.literal_list(chunk)}")
    ids = {
        int(file_id): str(lfn)
        for lfn, file_id in session.select_in(L.FILES, "LOGNAME", lfns, ["FILE_ID"])
    }
    sites = [path for path, kind in session.dir(L.REPLICAS) if kind == "collection"]
    found: dict[str, str] = {}
    changing: dict[str, list[str]] = defaultdict(list)  # site directory -> entry names
    if sites and ids:
        items = ["FILE", "FILE_ID", "STATUS", "SEPATH"]
        for id_chunk in chunked(sorted(ids), IN_CHUNK):
            condition = f"FILE_ID in {L.literal_list(id_chunk)} and SE = {L.literal(se)}"
            for directory, name, file_id, current, path in site_union(
                session, sites, items, condition
            ):
                lfn = ids[int(file_id)]
                if str(path) not in by_lfn[lfn]:
                    continue  # another copy of the file on that SE
                found[str(path)] = lfn
                if current != status:
                    changing[str(directory)].append(str(name))
    for directory, names in changing.items():
        for chunk in chunked(names, IN_CHUNK):
            session.updateattr(
                directory, [("STATUS", L.literal(status))], f"FILE in {L.literal_list(chunk)}"
            )
    if views and changing:
        # The views fold each file's available copies (derive.copy_fold): a status counts.
        changed = {int(name.rsplit("_", 1)[0]) for names in changing.values() for name in names}
        refold(session, sorted(changed))
    return MarkedCopies(found, sum(len(names) for names in changing.values()))
