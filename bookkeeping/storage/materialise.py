"""``bk generate --materialise``: real bytes for generated files, on real storage elements.

For every generated file the materialiser makes deterministic content: a readable metadata
header (``metadata_header``, what ``bk extract`` reads), then bytes from the seed and the
LFN, ``Size // scale`` bytes long in all (the header alone when it is longer); the report
then records the adler32 of those bytes as the file's ``ADLER32`` and their size as the
file parameter ``RealSize`` (``Size`` stays the nominal size, so listings and totals look
like real data). Each available copy the generator gave the file is mapped to a storage
element under the storage root, created when missing:

- a disk copy at SITE -> ``SITE-DISK`` (``file://ROOT/SITE-DISK``, role ``offline``);
- a tape copy at SITE -> ``SITE-TAPE`` (``tape://ROOT/SITE-TAPE?...``, role ``tape``);
- a recall copy at SITE in area ``f0a 14`` -> ``SITE-RECALL-F0A-14`` (role ``recall``).

A lost copy names no SE and gets no bytes. The bytes of a report are written (durably)
before the report is handed on to be recorded, so killing the command at any moment leaves
at most files no replica names yet, never a replica without bytes; running it again finds
those files and records them.
"""

from __future__ import annotations

import io
import random
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.element import Role, StorageElement
from bookkeeping.storage.errors import StorageExists
from bookkeeping.storage.registry import StorageElementRecord, StorageRegistry
from bookkeeping.storage.tape import TapeElement
from bookkeeping.storage.transfer import REAL_SIZE_PARAMETER, pfn_of
from bookkeeping.writer.model import JobReport, OutputFileSpec, ReplicaSpec

DEFAULT_SCALE = 100_000  # a generated 1.5 GB file becomes 15 kB of real bytes
GROUP = 200  # reports whose bytes are written before they are handed on
TAPE_OPTIONS = "drives=2&cartridges=32&capacity=50000000&mount=0&seek=0"


def se_name(site: str, storage_class: str, area: str = "") -> str:
    if storage_class == "tape":
        return f"{site}-TAPE"
    if storage_class == "recall":
        return f"{site}-RECALL-" + re.sub(r"[^A-Za-z0-9]+", "-", area).strip("-").upper()
    return f"{site}-DISK"


def content(seed: int, lfn: str, size: int) -> bytes:
    """The deterministic bytes of a generated file (the same on every machine)."""
    return random.Random(f"{seed}:{lfn}").randbytes(size)


HEADER_MAGIC = "BKMD 1"


def metadata_header(report: JobReport, output: OutputFileSpec) -> bytes:
    """A readable header at the start of a generated file: ``BKMD 1``, then ``Key: value``
    lines, then an empty line. It lets ``bk extract`` find the file's metadata in the file
    itself, as a detector's files carry theirs (the metadata description
    ``bookkeeping/aggregation/descriptions/generated.toml`` says where each field is)."""
    declared = [spec for spec in report.event_types if spec.event_type == output.event_type]
    description = declared[0].description if declared else ""
    lines = [
        HEADER_MAGIC,
        f"ConfigName: {report.config_name}",
        f"ConfigVersion: {report.config_version}",
        f"JobDate: {report.job_date.isoformat(sep=' ')}",
        f"DiracJobId: {report.dirac_job_id}",
        f"Production: {report.production}",
        f"Conditions: {report.conditions}",
        f"ProcessingPass: {report.processing_pass}",
        f"Run: {'' if report.run is None else report.run}",
        f"LFN: {output.lfn}",
        f"FileType: {output.file_type}",
        f"FileTypeVersion: {output.file_type_version}",
        f"GUID: {output.guid}",
        f"Size: {output.size}",
        f"Events: {output.events}",
        f"EventType: {output.event_type}",
        f"EventTypeDescription: {description}",
        f"CreationTime: {output.creation_time.isoformat(sep=' ')}",
        f"Visible: {'Y' if output.visible else 'N'}",
    ]
    return ("\n".join(lines) + "\n\n").encode()


class Materialiser:
    """Writes generated files' bytes on storage elements under ``root``."""

    def __init__(self, registry: StorageRegistry, root: Path, seed: int, scale: int) -> None:
        if scale < 1:
            raise ValueError("the scale must be at least 1")
        self.registry = registry
        self.root = root
        self.seed = seed
        self.scale = scale
        self._records: dict[str, StorageElementRecord] = {}
        self._elements: dict[str, StorageElement] = {}
        self._written: set[tuple[str, str]] = set()
        self._pending: dict[str, list[tuple[bytes, str, str]]] = {}
        self._sites: set[str] = set()
        self.files = 0
        self.bytes = 0

    def close(self) -> None:
        for element in self._elements.values():
            element.close()
        self._elements.clear()

    def reports(self, reports: Iterable[JobReport]) -> Iterator[JobReport]:
        """``reports`` with real checksums and copies on SEs, each yielded only once the
        bytes of its files are durable (reports go in groups, so that a tape library
        writes a group's files in one mount)."""
        group: list[JobReport] = []
        for report in reports:
            group.append(self._report(report))
            if len(group) >= GROUP:
                self._flush()
                yield from group
                group = []
        self._flush()
        yield from group

    def report(self, report: JobReport) -> JobReport:
        """One report, its bytes written."""
        done = self._report(report)
        self._flush()
        return done

    def _report(self, report: JobReport) -> JobReport:
        outputs = tuple(self._output(report, output) for output in report.output_files)
        return replace(report, output_files=outputs)

    def _flush(self) -> None:
        """Write the tape files waiting, one batch per library."""
        for name, items in self._pending.items():
            element = self._element(self._records[name])
            assert isinstance(element, TapeElement)
            fresh = []
            for data, lfn, adler32 in items:
                if element.exists(lfn):
                    self._check_existing(element, lfn, data, adler32)
                else:
                    fresh.append((io.BytesIO(data), lfn))
            for written in element.write_batch(fresh):
                self.files += 1
                self.bytes += written.size
        self._pending.clear()

    def _output(self, report: JobReport, output: OutputFileSpec) -> OutputFileSpec:
        # The metadata header first, then deterministic bytes up to Size // scale (a file
        # too small for its header is the header alone).
        header = metadata_header(report, output)
        size = max(1, output.size // self.scale, len(header))
        data = header + content(self.seed, output.lfn, size - len(header))
        adler32 = format_adler32(zlib.adler32(data))
        copies = []
        for copy in output.replicas:
            if copy.status != "available":
                copies.append(copy)
                continue
            record = self._element_record(copy)
            self._write(record, output.lfn, data, adler32)
            copies.append(
                replace(copy, pfn=pfn_of(record, output.lfn), se=record.name, path=output.lfn)
            )
        parameters = tuple(p for p in output.parameters if p[0] != REAL_SIZE_PARAMETER)
        return replace(
            output,
            checksum=adler32,
            parameters=(*parameters, (REAL_SIZE_PARAMETER, str(size))),
            replicas=tuple(copies),
        )

    def _element_record(self, copy: ReplicaSpec) -> StorageElementRecord:
        if copy.site not in self._sites:  # every site gets a disk pool and a tape library
            self._sites.add(copy.site)
            for storage_class in ("disk", "tape"):
                name = se_name(copy.site, storage_class)
                self._records[name] = self._ensure(name, copy.site, storage_class)
        name = se_name(copy.site, copy.storage_class, copy.area)
        record = self._records.get(name)
        if record is None:
            record = self._ensure(name, copy.site, copy.storage_class)
            self._records[name] = record
        return record

    def _ensure(self, name: str, site: str, storage_class: str) -> StorageElementRecord:
        found = self.registry.find(name)
        if found is not None:
            return found
        folder = self.root / name
        role: Role
        if storage_class == "tape":
            role, url = "tape", f"tape://{folder}?{TAPE_OPTIONS}"
        else:
            role = "recall" if storage_class == "recall" else "offline"
            url = f"file://{folder}"
            folder.mkdir(parents=True, exist_ok=True)
        return self.registry.add(name, url, role, site=site, exist_ok=True)

    def _element(self, record: StorageElementRecord) -> StorageElement:
        element = self._elements.get(record.name)
        if element is None:
            element = self._elements[record.name] = self.registry.open(record)
        return element

    def _write(self, record: StorageElementRecord, lfn: str, data: bytes, adler32: str) -> None:
        if (record.name, lfn) in self._written:
            return
        self._written.add((record.name, lfn))
        if record.role == "tape":
            self._pending.setdefault(record.name, []).append((data, lfn, adler32))
            return
        element = self._element(record)
        try:
            element.put(io.BytesIO(data), lfn, expected_size=len(data), expected_adler32=adler32)
            self.files += 1
            self.bytes += len(data)
        except StorageExists:
            self._check_existing(element, lfn, data, adler32)

    @staticmethod
    def _check_existing(element: StorageElement, lfn: str, data: bytes, adler32: str) -> None:
        """A file an earlier run wrote (perhaps killed before recording it) must hold the
        same bytes."""
        there = element.stat(lfn)
        if (there.size, there.adler32) != (len(data), adler32):
            raise StorageExists(
                f"{lfn} on storage element {element.name} exists already with other bytes",
                se=element.name,
                path=lfn,
            )
