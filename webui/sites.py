"""Where a dataset's files are: the sites of each file's available copies, and per site the
files and bytes the dataset has there.

Copies come from ``Bookkeeping.replicas_of``, a few hundred files a call, so the page's
files cost one call and the per-site summary one per ``CHUNK`` files of the dataset. The
summary reads every file of the dataset, so it is made only for datasets of up to
``SITE_SUMMARY_MAX_FILES`` files and said to be missing for larger ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from bookkeeping.interface import DatasetPath, FileRecord, Replica
from webui.state import reader

AVAILABLE = "available"
CHUNK = 500  # files per replicas_of call


def _sites(copies: Sequence[Replica]) -> list[str]:
    return sorted({copy.site for copy in copies if copy.status == AVAILABLE})


def sites_of(file_ids: Iterable[int]) -> dict[int, list[str]]:
    """The sites holding an available copy of each file, sorted."""
    return {
        file_id: _sites(copies) for file_id, copies in reader().replicas_of(list(file_ids)).items()
    }


def page_sites(file_ids: Iterable[int], known: dict[int, list[str]]) -> dict[int, list[str]]:
    """Sites per file of a page; ``known`` holds those the summary already looked up."""
    wanted = list(file_ids)
    missing = [file_id for file_id in wanted if file_id not in known]
    found = {**known, **(sites_of(missing) if missing else {})}
    return {file_id: found[file_id] for file_id in wanted}


def _chunks(records: Iterator[FileRecord]) -> Iterator[list[FileRecord]]:
    while chunk := list(islice(records, CHUNK)):
        yield chunk


def site_summary(
    path: DatasetPath, total_files: int, limit: int
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """``{"computed", "limit", "sites": [{"site", "files", "bytes"}]}`` and the sites of
    every file looked up on the way."""
    if total_files > limit:
        return {"computed": False, "limit": limit, "sites": []}, {}
    totals: dict[str, list[int]] = {}
    looked_up: dict[int, list[str]] = {}
    for chunk in _chunks(iter(reader().iter_files(path, order_by="file_id"))):
        sites = sites_of(record.file_id for record in chunk)
        for record in chunk:
            looked_up[record.file_id] = sites[record.file_id]
            for site in sites[record.file_id]:
                counts = totals.setdefault(site, [0, 0])
                counts[0] += 1
                counts[1] += record.size
    rows = [{"site": site, "files": files, "bytes": size}
            for site, (files, size) in sorted(totals.items())]  # fmt: skip
    return {"computed": True, "limit": limit, "sites": rows}, looked_up
