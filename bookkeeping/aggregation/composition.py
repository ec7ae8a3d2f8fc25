"""A delivery's optional composition: its files merged into one per run.

The verified files of a run are concatenated in LFN order (streamed, a chunk at a time)
into ``runs/run<N>.dat`` (``runs/no-run.dat`` for files without a run), written under a
temporary name, fsynced and renamed; the manifest lists each merged file with its size,
adler32 and parts (LFN, size, adler32, in order), so a reader can split it again and check
every part against the bookkeeping.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bookkeeping.aggregation.deliveries import PlannedFile
from bookkeeping.chunking import chunked
from bookkeeping.interface import Bookkeeping
from bookkeeping.storage.checksum import Adler32, read_chunks

RUNS_DIR = "runs"
CHUNK = 500


@dataclass(frozen=True)
class Part:
    lfn: str
    size: int
    adler32: str


@dataclass(frozen=True)
class Composed:
    name: str  # path inside the delivery directory
    size: int
    adler32: str
    parts: tuple[Part, ...]


def runs_of(reader: Bookkeeping, lfns: Sequence[str]) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for chunk in chunked(lfns, CHUNK):
        for record in reader.files_metadata(chunk).found:
            found[record.lfn] = record.run
    return found


def compose_per_run(
    reader: Bookkeeping, plan: Sequence[PlannedFile], files_dir: Path, directory: Path
) -> list[Composed]:
    runs = runs_of(reader, [item.lfn for item in plan])
    groups: dict[int | None, list[PlannedFile]] = {}
    for item in plan:  # the plan is in LFN order, and so is each group
        groups.setdefault(runs.get(item.lfn), []).append(item)
    out_dir = directory / RUNS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for run in sorted(groups, key=lambda r: (r is None, r or 0)):
        name = f"{RUNS_DIR}/no-run.dat" if run is None else f"{RUNS_DIR}/run{run}.dat"
        made.append(_merge(groups[run], files_dir, directory / name, name))
    return made


def _merge(items: Sequence[PlannedFile], files_dir: Path, target: Path, name: str) -> Composed:
    temporary = target.with_name(f".{target.name}.part")
    whole = Adler32()
    parts = []
    try:
        with open(temporary, "wb") as out:
            for item in items:
                part = Adler32()
                with open(files_dir / item.name, "rb") as source:
                    for chunk in read_chunks(source):
                        part.update(chunk)
                        whole.update(chunk)
                        out.write(chunk)
                parts.append(Part(item.lfn, part.size, part.hexdigest()))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return Composed(name, whole.size, whole.hexdigest(), tuple(parts))
