"""Where a dataset's files are: the sites of each file's available copies, and per site the
files and bytes the dataset has there.

The ``Bookkeeping`` protocol answers copies one file at a time (``replicas``), so the
summary costs one call per file of the dataset; it is made for datasets of up to
``SITE_SUMMARY_MAX_FILES`` files and said to be missing for larger ones (a per-site total
of the protocol would make it one query; see docs/webui.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bookkeeping.interface import DatasetPath
from webui.state import reader

AVAILABLE = "available"


def sites_of(file_id: int) -> list[str]:
    """The sites holding an available copy of the file, sorted."""
    return sorted({r.site for r in reader().replicas(file_id) if r.status == AVAILABLE})


def page_sites(file_ids: Iterable[int], known: dict[int, list[str]]) -> dict[int, list[str]]:
    """Sites per file of a page; ``known`` holds those the summary already looked up."""
    return {file_id: known[file_id] if file_id in known else sites_of(file_id)
            for file_id in file_ids}  # fmt: skip


def site_summary(
    path: DatasetPath, total_files: int, limit: int
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """``{"computed", "limit", "sites": [{"site", "files", "bytes"}]}`` and the sites of
    every file looked up on the way."""
    if total_files > limit:
        return {"computed": False, "limit": limit, "sites": []}, {}
    totals: dict[str, list[int]] = {}
    looked_up: dict[int, list[str]] = {}
    for record in reader().iter_files(path, order_by="file_id"):
        sites = looked_up[record.file_id] = sites_of(record.file_id)
        for site in sites:
            counts = totals.setdefault(site, [0, 0])
            counts[0] += 1
            counts[1] += record.size
    rows = [{"site": site, "files": files, "bytes": size}
            for site, (files, size) in sorted(totals.items())]  # fmt: skip
    return {"computed": True, "limit": limit, "sites": rows}, looked_up
