"""Answers computed in plain Python from the job reports, independently of any database.

Ids follow the writer's documented rule: jobs and files are numbered 1, 2, ... in the order
their reports (and the output files within a report) were recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bookkeeping.interface import (
    DATA_QUALITY_GROUP,
    Comparison,
    Condition,
    DatasetPath,
    FileRecord,
    JobRecord,
    Level,
    LevelValue,
    ListedFile,
    ListingQuery,
    Logical,
    Not,
    Parameter,
    QualityFlag,
    Relative,
    Replica,
)
from bookkeeping.writer.model import JobReport, OutputFileSpec


class Expected:
    def __init__(self, reports: Iterable[JobReport]) -> None:
        self.reports: list[JobReport] = []
        self.records: dict[int, FileRecord] = {}
        self.outputs: dict[int, OutputFileSpec] = {}
        self.report_of_file: dict[int, JobReport] = {}
        self.jobs: dict[int, JobReport] = {}
        self.file_ids: dict[str, int] = {}
        self.inputs_of_job: dict[int, list[int]] = {}
        for job_id, report in enumerate(reports, start=1):
            self.reports.append(report)
            self.jobs[job_id] = report
            self.inputs_of_job[job_id] = [self.file_ids[lfn] for lfn in report.input_files]
            for output in report.output_files:
                file_id = len(self.records) + 1
                self.file_ids[output.lfn] = file_id
                self.outputs[file_id] = output
                self.report_of_file[file_id] = report
                self.records[file_id] = self._record(file_id, job_id, report, output)
        self.job_of_file = {fid: rec.job_id for fid, rec in self.records.items()}

    @staticmethod
    def _record(file_id: int, job_id: int, report: JobReport, out: OutputFileSpec) -> FileRecord:
        quality = {q.group: q.flag for q in out.quality}.get(DATA_QUALITY_GROUP)
        return FileRecord(
            file_id=file_id,
            lfn=out.lfn,
            guid=out.guid,
            size=out.size,
            events=out.events,
            checksum=out.checksum,
            file_type=out.file_type,
            event_type=out.event_type,
            job_id=job_id,
            production=report.production,
            run=report.run,
            creation_time=out.creation_time,
            visible=out.visible,
            quality=quality,
        )

    def attributes(self, record: FileRecord) -> dict[str, object]:
        report = self.jobs[record.job_id]
        return {
            "configname": report.config_name,
            "config": report.config_name,
            "configversion": report.config_version,
            "conditions": report.conditions,
            "processingpass": report.processing_pass,
            "eventtype": record.event_type,
            "filetype": record.file_type,
            "production": record.production,
            "run": record.run,
            "events": record.events,
            "size": record.size,
            "fileid": record.file_id,
            "jobid": record.job_id,
            "lfn": record.lfn,
            "guid": record.guid,
            "quality": record.quality,
        }

    def in_path(self, record: FileRecord, path: DatasetPath) -> bool:
        a = self.attributes(record)
        wanted = {
            "configname": path.config_name,
            "configversion": path.config_version,
            "conditions": path.conditions,
            "processingpass": path.processing_pass,
            "eventtype": path.event_type,
            "filetype": path.file_type,
            "production": path.production,
        }
        if any(v is not None and a[k] != v for k, v in wanted.items()):
            return False
        if path.production_range is not None:
            first, last = path.production_range
            if not first <= record.production <= last:
                return False
        return self.meets_filters(record, path)

    @staticmethod
    def meets_filters(record: FileRecord, path: DatasetPath) -> bool:
        """The dataset filters, written out here independently of the interface's."""
        ranges = (
            (path.run_range, record.run),
            (path.created_range, record.creation_time),
            (path.events_range, record.events),
            (path.size_range, record.size),
        )
        for bounds, value in ranges:
            if bounds is None:
                continue
            if value is None:
                return False
            low, high = bounds
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return path.quality is None or record.quality == path.quality

    def dataset(self, path: DatasetPath) -> list[FileRecord]:
        return sorted(
            (r for r in self.records.values() if self.in_path(r, path)), key=lambda r: r.lfn
        )

    def level_values(self, level: Level, path: DatasetPath) -> list[LevelValue]:
        groups: dict[object, list[FileRecord]] = defaultdict(list)
        for record in self.dataset(path):
            groups[self.attributes(record)[level.value]].append(record)
        descriptions = {e.event_type: e.description for r in self.reports for e in r.event_types}
        decays = {e.event_type: e.decay or None for r in self.reports for e in r.event_types}
        return [
            LevelValue(
                value=value,
                files=len(items),
                events=sum(r.events for r in items),
                bytes=sum(r.size for r in items),
                description=descriptions[value] if level is Level.EVENT_TYPE else None,
                decay=decays[value] if level is Level.EVENT_TYPE else None,
            )
            for value, items in sorted(groups.items())
        ]

    def job(self, job_id: int) -> JobRecord:
        report = self.jobs[job_id]
        return JobRecord(
            job_id=job_id,
            config_name=report.config_name,
            config_version=report.config_version,
            job_date=report.job_date,
            production=report.production,
            run=report.run,
            conditions=report.conditions,
            processing_pass=report.processing_pass,
            dirac_job_id=report.dirac_job_id,
        )

    def job_parameters(self, job_id: int) -> tuple[Parameter, ...]:
        report = self.jobs[job_id]
        pairs = [
            ("DIRAC_JobID", str(report.dirac_job_id)),
            ("Production", str(report.production)),
            ("Conditions", report.conditions),
            ("ProcessingPass", report.processing_pass),
            *report.parameters,
        ]
        if report.run is not None:
            pairs.append(("RunNumber", str(report.run)))
        return tuple(sorted(Parameter(n, v) for n, v in pairs))

    def file_parameters(self, file_id: int) -> tuple[Parameter, ...]:
        out = self.outputs[file_id]
        pairs = [
            ("GUID", out.guid),
            ("Size", str(out.size)),
            ("EventStat", str(out.events)),
            ("EventType", str(out.event_type)),
            ("ADLER32", out.checksum),
            *out.parameters,
        ]
        return tuple(sorted(Parameter(n, v) for n, v in pairs))

    def _related(self, file_id: int, depth: int, step) -> tuple[Relative, ...]:  # noqa: ANN001
        found: dict[int, int] = {}
        frontier = {file_id}
        for generation in range(1, depth + 1):
            reached = {other for current in frontier for other in step(current)}
            frontier = reached - found.keys() - {file_id}
            found.update((item, generation) for item in frontier)
        relatives = [
            Relative(d, fid, self.records[fid].lfn, self.records[fid].file_type)
            for fid, d in found.items()
        ]
        return tuple(sorted(relatives, key=lambda r: (r.depth, r.lfn)))

    def ancestors(self, file_id: int, depth: int) -> tuple[Relative, ...]:
        return self._related(file_id, depth, lambda f: self.inputs_of_job[self.job_of_file[f]])

    def descendants(self, file_id: int, depth: int) -> tuple[Relative, ...]:
        def children(f: int) -> list[int]:
            return [c for c, job in self.job_of_file.items() if f in self.inputs_of_job[job]]

        return self._related(file_id, depth, children)

    def replicas(self, file_id: int) -> tuple[Replica, ...]:
        return tuple(
            sorted(
                Replica(r.site, r.storage_class, r.area, r.status, r.pfn)  # type: ignore[arg-type]
                for r in self.outputs[file_id].replicas
            )
        )

    def quality_flags(self, file_id: int) -> tuple[QualityFlag, ...]:
        return tuple(sorted(QualityFlag(q.group, q.flag) for q in self.outputs[file_id].quality))

    def matches(self, record: FileRecord, condition: Condition) -> bool | None:
        """SQL's three-valued logic: None when a compared value is missing."""
        if isinstance(condition, Logical):
            values = [self.matches(record, item) for item in condition.items]
            if condition.op == "and":
                return False if False in values else (None if None in values else True)
            return True if True in values else (None if None in values else False)
        if isinstance(condition, Not):
            inner = self.matches(record, condition.item)
            return None if inner is None else not inner
        assert isinstance(condition, Comparison)
        value = self.attributes(record)[condition.attribute]
        if value is None:
            return None
        if condition.op == "in":
            return value in condition.values
        other = condition.values[0]
        return {
            "=": value == other,
            "!=": value != other,
            "<": value < other,  # type: ignore[operator]
            "<=": value <= other,  # type: ignore[operator]
            ">": value > other,  # type: ignore[operator]
            ">=": value >= other,  # type: ignore[operator]
        }[condition.op]

    def listing(self, query: ListingQuery) -> list[ListedFile]:
        lines = []
        for record in sorted(self.records.values(), key=lambda r: r.lfn):
            if record.file_type != query.file_type:
                continue
            if query.where is not None and self.matches(record, query.where) is not True:
                continue
            copies = [r for r in self.outputs[record.file_id].replicas if r.status == "available"]
            classes = {r.storage_class for r in copies}
            if query.disk_only and not classes & {"disk", "recall"}:
                continue
            lines.append(
                ListedFile(
                    lfn=record.lfn,
                    size=record.size,
                    on_disk="disk" in classes,
                    on_tape="tape" in classes,
                    recalled=tuple(sorted(r.area for r in copies if r.storage_class == "recall")),
                )
            )
        return lines
