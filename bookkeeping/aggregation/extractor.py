"""``bk extract``: metadata read from files by a description, registered through the writer.

E1 (first extraction): the files of one job (same ``dirac_job_id``) become one job report,
recorded by every writer given (atomically, as any report). E2 (re-extraction, e.g. after
reprocessing): a file already recorded is never recorded twice; what the writer can change
is updated (visibility; with ``--se``, the copy on that storage element, put only once its
bytes are durable and checked), and a file whose recorded checksum differs from its bytes
is reported as such and left alone (a recorded file's contents are never rewritten).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bookkeeping.aggregation.description import Description, extract_values
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, BookkeepingWriter
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.storage.transfer import put_file
from bookkeeping.writer.model import EventTypeSpec, JobReport, OutputFileSpec, RecordStatus

Outcome = Literal["recorded", "unchanged", "updated", "failed"]


@dataclass(frozen=True)
class Extracted:
    file: Path
    lfn: str | None
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True)
class _Item:
    file: Path
    job: dict[str, Any]
    output: OutputFileSpec
    event_type: EventTypeSpec


def _item(description: Description, file: Path) -> _Item:
    values = extract_values(description, file)
    file_values = dict(values["file"])
    file_values.setdefault("visible", True)
    parameters = tuple(sorted((k, str(v)) for k, v in values["parameters"].items()))
    output = OutputFileSpec(**file_values, parameters=parameters)
    text = values["event_type"].get("description") or f"event type {output.event_type}"
    return _Item(file, values["job"], output, EventTypeSpec(output.event_type, text))


def _reports(items: Sequence[_Item]) -> Iterator[tuple[JobReport, list[_Item]]]:
    jobs: dict[int, list[_Item]] = {}
    for item in items:
        jobs.setdefault(item.job["dirac_job_id"], []).append(item)
    for group in jobs.values():
        first = group[0].job
        declared = {i.event_type.event_type: i.event_type for i in group}
        report = JobReport(
            **first,
            output_files=tuple(i.output for i in group),
            event_types=tuple(declared[k] for k in sorted(declared)),
            source=str(group[0].file),
        )
        yield report, group


class Extractor:
    def __init__(
        self,
        reader: Bookkeeping,
        writers: Sequence[BookkeepingWriter],
        registry: StorageRegistry | None = None,
        se: str | None = None,
    ) -> None:
        self.reader = reader
        self.writers = list(writers)
        self.registry = registry
        self.se = se

    def extract(self, description: Description, files: Sequence[Path]) -> list[Extracted]:
        """One outcome per file, in input order; a bad file does not stop the others."""
        results: dict[Path, Extracted] = {}
        items: list[_Item] = []
        for file in files:
            try:
                items.append(_item(description, file))
            except (BookkeepingError, OSError, TypeError) as exc:
                results[file] = Extracted(file, None, "failed", _message(exc))
        lfns = [i.output.lfn for i in items]
        recorded = {r.lfn: r for r in self.reader.files_metadata(lfns).found}
        fresh = [i for i in items if i.output.lfn not in recorded]
        for item in items:
            if item.output.lfn in recorded:
                results[item.file] = self._again(item, recorded[item.output.lfn])
        for report, group in _reports(fresh):
            results.update(self._record(report, group))
        return [results[file] for file in files]

    def _record(self, report: JobReport, group: list[_Item]) -> dict[Path, Extracted]:
        outcome: dict[Path, Extracted] = {}
        for writer in self.writers:
            result = writer.record(report)
            if result.status is not RecordStatus.RECORDED:
                detail = result.error or result.status.value
                if result.status is RecordStatus.DUPLICATE:
                    detail = (
                        f"job {report.dirac_job_id} is recorded already without this file; "
                        "a recorded job's files are not changed"
                    )
                return {i.file: Extracted(i.file, i.output.lfn, "failed", detail) for i in group}
        for item in group:
            detail = self._put(item)
            outcome[item.file] = Extracted(item.file, item.output.lfn, "recorded", detail)
        return outcome

    def _again(self, item: _Item, record: object) -> Extracted:
        lfn = item.output.lfn
        if record.checksum != item.output.checksum:  # type: ignore[attr-defined]
            return Extracted(
                item.file,
                lfn,
                "failed",
                f"recorded with adler32 {record.checksum}, the file has {item.output.checksum}; "  # type: ignore[attr-defined]
                "a recorded file's contents are not rewritten",
            )
        changes = []
        if record.visible != item.output.visible:  # type: ignore[attr-defined]
            for writer in self.writers:
                writer.set_visibility([lfn], item.output.visible)
            changes.append("visible" if item.output.visible else "invisible")
        put = self._put(item)
        if put:
            changes.append(put)
        if changes:
            return Extracted(item.file, lfn, "updated", ", ".join(changes))
        return Extracted(item.file, lfn, "unchanged")

    def _put(self, item: _Item) -> str:
        """With ``--se``: the file's bytes onto that storage element and its copy recorded
        (nothing when the copy is there already)."""
        if self.se is None or self.registry is None:
            return ""
        record = self.reader.file_by_lfn(item.output.lfn)
        copies = self.reader.replicas(record.file_id) if record is not None else ()
        if any(c.se == self.se and c.status == "available" for c in copies):
            return ""
        try:
            put_file(self.reader, self.writers, self.registry, item.file, item.output.lfn, self.se)
        except BookkeepingError as exc:
            return f"not put on {self.se}: {_message(exc)}"
        return f"copy on {self.se}"


def _message(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
