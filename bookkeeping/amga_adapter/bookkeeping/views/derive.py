"""What the views hold for one file, computed from plain facts: its combination (the
roottree entry it counts in) and its row in that combination's shard. The writer (from the
report) and the rebuild (from the bookkeeping directories) both go through here, so the
incremental views and a rebuild agree by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bookkeeping.amga_adapter.bookkeeping.views.layout import Combination, Summary

REPLICA_LIST_LENGTH = 255
AVAILABLE = "available"  # as dataset_filters.AVAILABLE (views sit below the interface)
# COPYKINDS bits: the storage classes of a file's available copies (views/share.py).
KIND_BITS = {"disk": 1, "tape": 2, "recall": 4}


@dataclass(frozen=True)
class FileFacts:
    file_id: int
    lfn: str
    guid: str
    size: int
    events: int
    checksum: str
    file_type: str
    event_type: int
    job_id: int
    production: int
    run: int | None
    creation_time: datetime
    visible: bool
    quality: str | None
    config: str
    config_version: str
    conditions: str
    processing_pass: str
    dirac_job_id: int
    program: str  # "<ProgramName> <ProgramVersion>" of the job, "" when not reported
    input_type: str  # file type of the job's primary input (smallest LFN), "" without inputs
    sites: tuple[str, ...]  # sites of the copies, in the report's order
    # (COPYKINDS, COPYSITES) of its copies (``copy_fold``); (None, None): not folded
    copies: tuple[int | None, str | None] = (None, None)


def program_of(parameters: Mapping[str, str]) -> str:
    name = parameters.get("ProgramName")
    if name is None:
        return ""
    version = parameters.get("ProgramVersion")
    return name if version is None else f"{name} {version}"


def location(sites: tuple[str, ...]) -> str:
    """The roottree's LOCATION of a file: the site of its first copy."""
    return sites[0] if sites else ""


def replica_list(sites: tuple[str, ...]) -> str:
    """A shard's REPLICA: the sites with a copy."""
    return ",".join(sorted(set(sites)))[:REPLICA_LIST_LENGTH]


def copy_fold(copies: Iterable[tuple[str, Mapping[str, object]]]) -> tuple[int | None, str | None]:
    """A file's (COPYKINDS, COPYSITES) from its copies, each (site, its entry's values as
    ``layout.replica_values`` has them): the storage classes (``KIND_BITS``) and the sorted,
    comma-joined sites of its available copies, which is all the storage share needs of
    them (``views/share.py``), so it reads the shard alone. A copy counts as the share
    statement over the site directories counts it: status "available", its AREA and
    REPLICA set. (None, None) when the sites do not fit or a site name has a comma: the
    share then reads that file's copies in the site directories."""
    kinds, sites = 0, set()
    for site, values in copies:
        if values.get("STATUS") != AVAILABLE:
            continue
        if values.get("AREA") is None or values.get("REPLICA") is None:
            continue
        kinds |= KIND_BITS.get(str(values.get("STORAGECLASS")), 0)
        sites.add(site)
    joined = ",".join(sorted(sites))
    if len(joined) > REPLICA_LIST_LENGTH or any("," in site for site in sites):
        return None, None
    return kinds, joined


def combination(facts: FileFacts) -> Combination:
    return Combination(
        config=facts.config,
        config_version=facts.config_version,
        conditions=facts.conditions,
        processing_pass=facts.processing_pass,
        event_type=facts.event_type,
        file_type=facts.file_type,
        location=location(facts.sites),
        program0=facts.program,
        input_file0=facts.input_type,
    )


def shard_values(facts: FileFacts) -> dict[str, object]:
    last = facts.lfn.rsplit("/", 1)[-1]
    return {
        "FILE_ID": facts.file_id,
        "NBEVT": facts.events,
        "FSIZ": facts.size,
        "JOBID": facts.job_id,
        "FILNAM": facts.lfn,
        "LAB": facts.config,
        "WRITDAT": facts.creation_time,
        "PRODUCTION": facts.production,
        "JOB": str(facts.dirac_job_id),
        "STEP": str(facts.processing_pass.count("/") + 1),
        "EXTENSION": last.rsplit(".", 1)[-1][:32] if "." in last else "",
        "REPLICA": replica_list(facts.sites),
        "GUID": facts.guid,
        "CHECKSUM": facts.checksum,
        "RUN": facts.run,
        "RUNMISSING": 1 if facts.run is None else 0,
        "VISIBLE": 1 if facts.visible else 0,
        "QUALITY": facts.quality,
        "COPYKINDS": facts.copies[0],
        "COPYSITES": facts.copies[1],
    }


def summary(facts: FileFacts) -> Summary:
    return Summary(1, facts.events, facts.size, facts.production, facts.production)
