"""``bk ls`` on the catalogue: the files of a file type meeting a where-clause, with their
available copies.

The where-clause (``bookkeeping.interface.Condition``) is compiled into the query
language, so the catalogue selects only the matching files, and a count is one aggregate.
The exception is ``quality``: the data-quality flag lives in ``/qualityParams`` rows that
many files lack, and the query language joins only inner, so a clause that tests it is
evaluated in Python over the file type's records (with SQL's three-valued logic,
``evaluation.truth``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.evaluation import truth
from bookkeeping.amga_adapter.bookkeeping.records import RECORD_ITEMS, select_rows
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute
from bookkeeping.interface import Comparison, Condition, ListedFile, ListingQuery, Logical, Not

DISK_CLASSES = ("disk", "recall")
Copy = tuple[str, str]  # (storage class, area) of an available copy


@dataclass(frozen=True)
class _Listed:
    file_id: int
    lfn: str
    size: int


def where_text(condition: Condition) -> str | None:
    """``condition`` in the query language, or ``None`` if it tests ``quality``."""
    if isinstance(condition, Logical):
        parts = [where_text(item) for item in condition.items]
        if any(part is None for part in parts):
            return None
        return "(" + f" {condition.op} ".join(str(part) for part in parts) + ")"
    if isinstance(condition, Not):
        inner = where_text(condition.item)
        return None if inner is None else f"not {inner}"
    return _comparison(condition)


def _comparison(comparison: Comparison) -> str | None:
    if comparison.attribute == "quality":
        return None
    reference = RECORD_ITEMS[comparison.attribute]
    if comparison.op == "in":
        values = ", ".join(L.literal(value) for value in comparison.values)
        return f"{reference} in ({values})"
    return f"{reference} {comparison.op} {L.literal(comparison.values[0])}"


def _conjunction(*conditions: str) -> str:
    return " and ".join(f"({c})" for c in conditions if c)


# The joins from /files to each directory a condition may name. Every recorded file has
# its parameters, job and job parameters, so leaving out the joins a condition does not need
# selects the same files, with fewer tables to join per statement.
_JOIN_OF = {
    L.TYPE_PARAMS: f"{L.FILES}:TYPE_ID = {L.TYPE_PARAMS}:TYPE_ID",
    L.FILE_PARAMS: f"{L.FILES}:FILE_ID = {L.FILE_PARAMS}:FILE_ID",
    L.JOBS: f"{L.FILES}:JOB_ID = {L.JOBS}:JOB_ID",
    L.JOB_PARAMS: f"{L.FILES}:JOB_ID = {L.JOB_PARAMS}:JOB_ID",
}


def _joins(*conditions: str) -> str:
    """The joins ``conditions`` need (their attribute references name the directories)."""
    text = " ".join(conditions)
    return " and ".join(join for path, join in _JOIN_OF.items() if f"{path}:" in text)


class CatalogueListing:
    """One listing query over one session: which files, and their available copies."""

    def __init__(self, session: ReadSession, sites: list[str], query: ListingQuery) -> None:
        self.session = session
        self.sites = sites
        self.query = query
        self.file_type = f"{RECORD_ITEMS['filetype']} = {L.literal(query.file_type)}"
        self.pushed = "" if query.where is None else where_text(query.where)

    def count(self) -> int:
        if self.pushed is None or self.query.disk_only:
            return sum(1 for _ in self.files())
        where = self._where(RECORD_ITEMS["fileid"])
        [(found,)] = list(self.session.selectattr([f"count({RECORD_ITEMS['fileid']})"], where))
        return int(found)

    def lines(self) -> Iterator[ListedFile]:
        for listed, copies in self.files():
            classes = {storage_class for storage_class, _ in copies}
            yield ListedFile(
                lfn=listed.lfn,
                size=listed.size,
                on_disk="disk" in classes,
                on_tape="tape" in classes,
                recalled=tuple(sorted(area for c, area in copies if c == "recall")),
            )

    def files(self) -> Iterator[tuple[_Listed, list[Copy]]]:
        """The listed files, streamed in LFN order (ties by file id: the database orders
        strings by code point, as the warehouse does), with their available copies."""
        copies = self._available_copies()
        for item in self._candidates():
            mine = copies.get(item.file_id, [])
            if self.query.disk_only and not any(c in DISK_CLASSES for c, _ in mine):
                continue
            yield item, mine

    def _candidates(self) -> Iterator[_Listed]:
        order = f"order by {RECORD_ITEMS['lfn']}, {RECORD_ITEMS['fileid']}"
        if self.pushed is None:  # tests quality: evaluated on the records
            where = self.query.where
            for row in select_rows(self.session, self.file_type, modifiers=order):
                if where is None or truth(where, row) is True:
                    yield _Listed(row.record.file_id, row.record.lfn, row.record.size)
            return
        items = [RECORD_ITEMS["fileid"], RECORD_ITEMS["lfn"], RECORD_ITEMS["size"]]
        condition = self._where(*items)
        for file_id, lfn, size in self.session.selectattr(items, f"{condition} {order}"):
            yield _Listed(int(file_id), str(lfn), int(size))

    def _where(self, *items: str) -> str:
        """The file type and the pushed condition, with the joins they and ``items`` need."""
        pushed = self.pushed or ""
        return _conjunction(_joins(self.file_type, pushed, *items), self.file_type, pushed)

    def _available_copies(self) -> dict[int, list[Copy]]:
        """file id -> its available copies, for every file of the type."""
        copies: dict[int, list[Copy]] = defaultdict(list)
        for site in self.sites:
            directory = L.replica_directory(site)
            items = [f"{directory}:FILE_ID", f"{directory}:STORAGECLASS", f"{directory}:AREA"]
            # By file type alone: the pushed condition's joins cost more per site than the
            # copies of the type's other files, which the candidates then leave aside.
            where = _conjunction(
                f"{directory}:FILE_ID = {L.FILES}:FILE_ID",
                _joins(self.file_type),
                self.file_type,
                f"{directory}:STATUS = {L.literal('available')}",
                f"{directory}:AREA is not null",  # always set (CatalogueReader.replicas)
            )
            try:
                for file_id, storage_class, area in self.session.selectattr(items, where):
                    copies[int(file_id)].append((str(storage_class), str(area)))
            except NoSuchAttribute:
                continue  # a site directory being created: no copies yet
        return copies
