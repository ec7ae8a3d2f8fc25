"""File records read from the catalogue: one ``selectattr`` joins the five directories a
``FileRecord`` draws on; the data-quality flag (which many files lack, and the query
language joins only inner) is read by a second query and merged by file id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import IN_CHUNK
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession
from bookkeeping.chunking import chunked
from bookkeeping.interface import DATA_QUALITY_GROUP, DatasetPath, FileRecord

_F, _P, _J, _JP, _T = L.FILES, L.FILE_PARAMS, L.JOBS, L.JOB_PARAMS, L.TYPE_PARAMS

# key -> attribute reference, in the order of the selected items
RECORD_ITEMS: dict[str, str] = {
    "fileid": f"{_F}:FILE_ID",
    "lfn": f"{_F}:LOGNAME",
    "guid": f"{_P}:GUID",
    "size": f"{_P}:Size",
    "events": f"{_P}:EventStat",
    "checksum": f"{_P}:ADLER32",
    "filetype": f"{_T}:Name",
    "eventtype": f"{_P}:EventType",
    "jobid": f"{_F}:JOB_ID",
    "production": f"{_JP}:Production",
    "run": f"{_JP}:RunNumber",
    "creation": f"{_F}:CREATIONDATE",
    "visible": f"{_F}:VISIBLE",
    "config": f"{_J}:CONFIGNAME",
    "configversion": f"{_J}:CONFIGVERSION",
    "conditions": f"{_JP}:Conditions",
    "processingpass": f"{_JP}:ProcessingPass",
}
JOINS = (
    f"{_F}:FILE_ID = {_P}:FILE_ID and {_F}:JOB_ID = {_J}:JOB_ID"
    f" and {_F}:JOB_ID = {_JP}:JOB_ID and {_F}:TYPE_ID = {_T}:TYPE_ID"
)


@dataclass(frozen=True)
class Row:
    """A file record with the job attributes a selection or listing may test."""

    record: FileRecord
    config: str
    config_version: str
    conditions: str
    processing_pass: str

    def attribute(self, key: str) -> Any:
        """The value of a listing attribute (``bookkeeping.interface.LISTING_ATTRIBUTES``)."""
        record = self.record
        return {
            "production": record.production,
            "run": record.run,
            "eventtype": record.event_type,
            "events": record.events,
            "size": record.size,
            "fileid": record.file_id,
            "jobid": record.job_id,
            "config": self.config,
            "configversion": self.config_version,
            "conditions": self.conditions,
            "processingpass": self.processing_pass,
            "lfn": record.lfn,
            "guid": record.guid,
            "quality": record.quality,
        }[key]


def path_condition(path: DatasetPath) -> str:
    """The query-language condition selecting the files of ``path``."""
    wanted: list[tuple[str, int | str | None]] = [
        ("config", path.config_name),
        ("configversion", path.config_version),
        ("conditions", path.conditions),
        ("processingpass", path.processing_pass),
        ("eventtype", path.event_type),
        ("filetype", path.file_type),
        ("production", path.production),
    ]
    parts = [
        f"{RECORD_ITEMS[key]} = {L.literal(value)}" for key, value in wanted if value is not None
    ]
    if path.production_range is not None:
        first, last = path.production_range
        reference = RECORD_ITEMS["production"]
        parts.append(f"{reference} >= {L.literal(first)} and {reference} <= {L.literal(last)}")
    return " and ".join(parts)


def _convert(values: tuple, quality: Mapping[int, str]) -> Row:
    v = dict(zip(RECORD_ITEMS, values, strict=True))
    file_id = int(v["fileid"])
    creation: datetime = v["creation"]
    record = FileRecord(
        file_id=file_id,
        lfn=v["lfn"],
        guid=v["guid"],
        size=int(v["size"]),
        events=int(v["events"]),
        checksum=v["checksum"],
        file_type=v["filetype"],
        event_type=int(v["eventtype"]),
        job_id=int(v["jobid"]),
        production=int(v["production"]),
        run=None if v["run"] is None else int(v["run"]),
        creation_time=creation,
        visible=bool(v["visible"]),
        quality=quality.get(file_id),
    )
    return Row(record, v["config"], v["configversion"], v["conditions"], v["processingpass"])


def _and(*conditions: str) -> str:
    return " and ".join(f"({c})" for c in conditions if c)


def quality_of(session: ReadSession, condition: str) -> dict[int, str]:
    """The data-quality flag of the files meeting ``condition`` (a record condition)."""
    items = [f"{_F}:FILE_ID", f"{L.QUALITY_PARAMS}:Flag"]
    where = _and(
        JOINS,
        f"{L.QUALITY_PARAMS}:FILE_ID = {_F}:FILE_ID",
        f"{L.QUALITY_PARAMS}:Group = {L.literal(DATA_QUALITY_GROUP)}",
        condition,
    )
    return {int(file_id): flag for file_id, flag in session.selectattr(items, where)}


def select_rows(session: ReadSession, condition: str, *, modifiers: str = "") -> Iterator[Row]:
    """The rows of the files meeting ``condition``, streamed (quality read first)."""
    quality = quality_of(session, condition)
    where = _and(JOINS, condition)
    for values in session.selectattr(list(RECORD_ITEMS.values()), f"{where} {modifiers}".strip()):
        yield _convert(tuple(values), quality)


def rows_by(session: ReadSession, key: str, values: Iterable[int] | Iterable[str]) -> list[Row]:
    """The rows whose ``key`` (``fileid`` or ``lfn``) is one of ``values``."""
    wanted: list[int | str] = sorted(set(values))
    found: list[Row] = []
    for chunk in chunked(wanted, IN_CHUNK):
        found.extend(select_rows(session, f"{RECORD_ITEMS[key]} in {L.literal_list(chunk)}"))
    return found
