"""Where a page's files are: the sites of each file's available copies and its ``bk ls``
location (disk, tape, recall areas).

Copies come from ``Bookkeeping.replicas_of``, one call for the page's files (it used to
be that call and a listing query for the same files). The per-site
summary of the whole (filtered) dataset is the storage share's sites
(``Bookkeeping.storage_share``), so the page reads the dataset's copies once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bookkeeping.interface import Replica
from webui.state import reader

AVAILABLE = "available"


def _sites(copies: Sequence[Replica]) -> list[str]:
    return sorted({copy.site for copy in copies if copy.status == AVAILABLE})


def page_copies(files: list[dict[str, Any]]) -> None:
    """Set each page file's ``sites`` (those with an available copy, sorted) and
    ``location`` (its ``bk ls`` line: disk, tape, recall areas of the available copies)
    from one ``replicas_of`` call: the page's copies are read once for both."""
    if not files:
        return
    found = reader().replicas_of([item["file_id"] for item in files])
    for item in files:
        available = [c for c in found.get(item["file_id"], ()) if c.status == AVAILABLE]
        classes = {copy.storage_class for copy in available}
        item["sites"] = _sites(available)
        item["location"] = {
            "lfn": item["lfn"],
            "size": item["size"],
            "on_disk": "disk" in classes,
            "on_tape": "tape" in classes,
            "recalled": sorted(c.area for c in available if c.storage_class == "recall"),
        }
