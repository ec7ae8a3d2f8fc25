"""A small KLOE-like world for the data-handling tests: a database with the static schema,
storage elements in temporary folders (disk pools, recall areas, a tape library), and
files recorded in the bookkeeping whose bytes really are on a disk pool."""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.datahandling.storage import ElementCache
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, ReplicaKey
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.writer.model import EventTypeSpec, JobReport, OutputFileSpec, ReplicaSpec
from tests.catalogue_bookkeeping.conftest import add_root

SITE = "LNF"


@dataclass
class World:
    engine: Engine
    root: Path
    backend: str
    bookkeeping: Bookkeeping
    writer: BookkeepingWriter
    registry: StorageRegistry
    elements: ElementCache
    next_job: list[int] = field(default_factory=lambda: [1])

    def disk(self, name: str, role: str = "offline", **options: int) -> None:
        folder = self.root / name
        folder.mkdir()
        self.registry.add(name, f"file://{folder}", role, site=SITE, **options)

    def tape(self, name: str, **parameters: object) -> None:
        """A tape library; its timings zero unless given (tests scale tape time down)."""
        query = "&".join(f"{k}={v}" for k, v in {"drives": 2, **parameters}.items())
        self.registry.add(name, f"tape://{self.root / name}?{query}", "tape", site=SITE)
        self.elements(name)  # laid out now

    def tape_only(self, lfns: Sequence[str], tape: str) -> None:
        """Archive ``lfns`` to ``tape`` (one pass, everything flushed), then drop their
        disk copies: the files are on tape only."""
        from bookkeeping.datahandling.archiver import Archiver
        from bookkeeping.datahandling.config import DataHandlingConfig

        archiver = Archiver(
            self.engine,
            self.bookkeeping,
            self.writer,
            self.elements,
            me="setup",
            config=DataHandlingConfig(archive={se: tape for se in self._disks()}),
        )
        assert archiver.run_once(flush_all=True).failed == 0
        for lfn in lfns:
            record = self.bookkeeping.file_by_lfn(lfn)
            assert record is not None
            for copy in self.bookkeeping.replicas(record.file_id):
                if copy.storage_class == "disk":
                    self.writer.remove_replicas([lfn], ReplicaKey(copy.site, "disk", copy.area))
                    self.elements(copy.se).delete(copy.path)

    def _disks(self) -> list[str]:
        return [r.name for r in self.registry.list() if r.role in ("daq", "offline", "mc")]

    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def recall_area(self, name: str, **options: int) -> None:
        self.disk(name, "recall", **options)

    def files(
        self,
        count: int,
        *,
        se: str,
        file_type: str = "RAW",
        sizes: Sequence[int] = (1000,),
        state: str = "closed",
        inputs: Sequence[str] = (),
        prefix: str = "raw",
    ) -> list[str]:
        """Record ``count`` files of one job with their bytes on ``se``; returns LFNs."""
        job = self.next_job[0]
        self.next_job[0] += 1
        element = self.elements(se)
        outputs = []
        for index in range(count):
            size = sizes[index % len(sizes)]
            data = os.urandom(16) + bytes(size - 16) if size >= 16 else os.urandom(size)
            lfn = f"/kloe/{prefix}/j{job:04d}/{prefix}{index:05d}.{file_type.lower()}"
            stat = element.put(_stream(data), lfn)
            checksum = f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"
            assert stat.adler32 == checksum
            outputs.append(
                OutputFileSpec(
                    lfn=lfn,
                    file_type=file_type,
                    file_type_version="1",
                    guid=f"{job:08X}-0000-0000-0000-{index:012X}",
                    size=size,
                    events=10,
                    checksum=checksum,
                    event_type=90000000,
                    creation_time=datetime(2026, 1, 1),
                    replicas=(
                        ReplicaSpec(SITE, "disk", "", "available", f"{element.url}{lfn}", se, lfn),
                    ),
                    state=state,
                )
            )
        report = JobReport(
            config_name="KLOE",
            config_version="v1",
            job_date=datetime(2026, 1, 1),
            dirac_job_id=1_000 + job,
            production=1,
            conditions="run2005",
            processing_pass="pass1",
            run=22653,
            input_files=tuple(inputs),
            output_files=tuple(outputs),
            event_types=(EventTypeSpec(90000000, "KLOE events"),),
        )
        result = self.writer.record(report)
        assert result.ok, result.error
        return [o.lfn for o in outputs]


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


@pytest.fixture(params=["warehouse", "catalogue"])
def world(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> Iterator[World]:
    backend = request.param
    if backend == "catalogue":
        add_root(engine)
    elements = ElementCache(engine)
    made = World(
        engine,
        tmp_path,
        backend,
        open_bookkeeping(engine, backend),
        open_writer(engine, backend),
        elements.registry,
        elements,
    )
    try:
        yield made
    finally:
        elements.close()
