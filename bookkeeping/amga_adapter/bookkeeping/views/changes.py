"""Visibility and replica changes in the views, inside the catalogue writer's transaction.

A file's shard row carries ``VISIBLE``, ``REPLICA`` (the sites with a copy) and the fold of
its available copies (``COPYKINDS``, ``COPYSITES``: derive.copy_fold), and its
combination carries ``LOCATION``, the site of its first copy. A change of visibility or of
copies therefore rewrites the row in place, or, when the first copy's site changes (the
first copy removed, a first copy added), moves the row to the shard of the combination with
the new location: removed from the old shard, added to the new one, and the writer's own
delta rows take one file (its events and bytes) off the old combination and put it on the
new one. No summary row is shared, as for recorded reports.

A production range cannot shrink by a delta (a minimum is not undone by a subtraction), so
after a file leaves a combination the roottree may keep a range wider than its files; the
view builder only ever counts such an entry in its shard instead of trusting the range, and
``check`` accepts a range that contains the true one (a rebuild narrows it).

The row and combination of a changed file are read from the views themselves (its row,
found by entry name in every shard with one ``selectattr_union``, and its roottree entry):
two statements whatever the size of the bookkeeping, and what moves is exactly what is there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows, site_union
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.derive import copy_fold, location, replica_list
from bookkeeping.amga_adapter.engine.errors import NoSuchDirectory
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.chunking import chunked

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.bookkeeping.views.maintain import ViewMaintainer

IN_CHUNK = 500  # entry names per "FILE in (...)"


@dataclass(frozen=True)
class FileState:
    """What a change leaves of a file that the views show."""

    visible: bool
    sites: tuple[str, ...]  # the sites of its copies, first copy first
    copies: tuple[int | None, str | None] = (None, None)  # derive.copy_fold of its copies


@dataclass(frozen=True)
class Placed:
    """A file's row in the views, as they are."""

    shard: str
    key: str
    combination: V.Combination
    description: str
    values: dict[str, object]

    def summary(self) -> V.Summary:
        production = int(self.values["PRODUCTION"])  # type: ignore[call-overload]
        events, size = int(self.values["NBEVT"]), int(self.values["FSIZ"])  # type: ignore[call-overload]
        return V.Summary(1, events, size, production, production)


def locate(session: CatalogueSession, file_ids: Sequence[int]) -> dict[int, Placed]:
    """file id -> its row, for the files the views hold."""
    items = [
        f"{V.ROOTTREE}:FILE",
        f"{V.ROOTTREE}:SHARD",
        f"{V.ROOTTREE}:EVENTDESCRIPTION",
        *(f"{V.ROOTTREE}:{a}" for a in V.KEY_ATTRIBUTES),
    ]
    entries = {
        str(shard): (str(key), V.Combination.from_values(tuple(values)), description or "")
        for key, shard, description, *values in rows(session, items)
    }
    if not entries or not file_ids:
        return {}
    names = list(V.SHARD_ATTRIBUTES)
    found: dict[int, Placed] = {}
    for ids in chunked(file_ids, IN_CHUNK):
        chunk = [str(file_id) for file_id in ids]
        condition = f"FILE in {BL.literal_list(chunk)}"
        for shard, *values in list(
            session.selectattr_union(sorted(entries), names, condition, with_directory=True)
        ):
            row = dict(zip(names, values, strict=True))
            key, combo, description = entries[str(shard)]
            found.setdefault(int(row["FILE_ID"]), Placed(str(shard), key, combo, description, row))
    return found


def _moved(placed: Placed, state: FileState) -> tuple[V.Combination, dict[str, object]]:
    """The combination and shard row ``placed`` has after the change."""
    combo = replace(placed.combination, location=location(state.sites))
    values = {
        **placed.values,
        "REPLICA": replica_list(state.sites),
        "VISIBLE": 1 if state.visible else 0,
        "COPYKINDS": state.copies[0],
        "COPYSITES": state.copies[1],
    }
    return combo, values


def prepare(
    maintainer: ViewMaintainer, session: CatalogueSession, states: Mapping[int, FileState]
) -> None:
    """Before the transaction: the combinations the changed files move to (DDL)."""
    maintainer.ensure_layout(session)
    for file_id, placed in locate(session, list(states)).items():
        combo, _ = _moved(placed, states[file_id])
        if combo != placed.combination:
            maintainer.ensure_shard(session, combo, placed.description)


def write(
    maintainer: ViewMaintainer, session: CatalogueSession, states: Mapping[int, FileState]
) -> None:
    """Inside the transaction: rows rewritten or moved, the writer's delta rows adjusted."""
    added: dict[str, V.Summary] = defaultdict(V.Summary)
    arriving: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for file_id, placed in sorted(locate(session, list(states)).items()):
        combo, values = _moved(placed, states[file_id])
        if combo == placed.combination:
            changed = {k: v for k, v in values.items() if placed.values[k] != v}
            if changed:
                session.setattr(f"{placed.shard}/{file_id}", changed)
            continue
        shard = maintainer.shard_of(session, combo)
        if shard is None:
            # A combination the prediction before the transaction did not foresee (a
            # concurrent change): schema changes cannot happen here, so the change retries.
            raise NoSuchDirectory(f"no shard prepared for combination {combo.key}")
        session.rm(f"{placed.shard}/{file_id}")
        arriving[shard].append((str(file_id), values))
        moved = placed.summary()
        added[placed.key] = added[placed.key].plus(moved.removed())
        added[combo.key] = added[combo.key].plus(moved)
    for shard, entries in arriving.items():
        session.addentries(shard, entries)
    maintainer.stage(session, added)


_COPY_ITEMS = ["FILE", "FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA"]


def refold(session: CatalogueSession, file_ids: Sequence[int]) -> None:
    """Inside the transaction of a change of copies' status (``marks.mark_copies_at``,
    which moves no file between combinations): the files' copy folds computed again from
    their copies as the transaction sees them, and rewritten in their rows."""
    if not file_ids:
        return
    sites = [path for path, kind in session.dir(BL.REPLICAS) if kind == "collection"]
    copies: dict[int, list[tuple[int, str, dict[str, object]]]] = defaultdict(list)
    for ids in chunked(sorted(file_ids), IN_CHUNK):
        condition = f"FILE_ID in {BL.literal_list(ids)}"
        for directory, name, file_id, *values in site_union(session, sites, _COPY_ITEMS, condition):
            index = int(str(name).rsplit("_", 1)[1])
            site = str(directory).rsplit("/", 1)[-1]
            row = dict(zip(_COPY_ITEMS[2:], values, strict=True))
            copies[int(file_id)].append((index, site, row))
    by_fold: dict[tuple[str, int | None, str | None], list[str]] = defaultdict(list)
    for file_id, placed in sorted(locate(session, list(file_ids)).items()):
        found = sorted(copies.get(file_id, []), key=lambda copy: copy[0])
        kinds, joined = copy_fold((site, row) for _, site, row in found)
        if (placed.values.get("COPYKINDS"), placed.values.get("COPYSITES")) != (kinds, joined):
            by_fold[(placed.shard, kinds, joined)].append(str(file_id))
    for (shard, kinds, joined), names in sorted(by_fold.items(), key=lambda item: item[0][0]):
        if kinds is None or joined is None:  # unfoldable (rare): the share reads its copies
            for name in names:
                session.setattr(f"{shard}/{name}", {"COPYKINDS": None, "COPYSITES": None})
            continue
        assignments = [("COPYKINDS", BL.literal(kinds)), ("COPYSITES", BL.literal(joined))]
        for chunk in chunked(names, IN_CHUNK):
            session.updateattr(shard, assignments, f"FILE in {BL.literal_list(chunk)}")
