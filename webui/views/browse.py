"""The dataset browser: the bookkeeping path level by level, then the dataset's files."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import current_app, request

from bookkeeping.interface import (
    STORAGE_FILTERS,
    Level,
    StorageShare,
)
from webui import params
from webui.errors import WebError, not_found
from webui.pages import Pages, Param
from webui.params import PATH_LEVELS, PathSelection
from webui.plain import plain
from webui.sites import page_copies
from webui.state import reader

pages = Pages("browse")

PATH_PARAMS = tuple(
    Param(name, f"{label} (set the levels from the top)", "integer" if name in
          params.INTEGER_PARAMETERS else "string")
    for name, _level, _attribute, label in PATH_LEVELS
) + (Param("production", "Only this production", "integer"),)  # fmt: skip
FILTER_PARAMS = tuple(
    Param(name, f"{label}: {'first' if name == low else 'last'} (inclusive)",
          "string" if kind == "date-time" else "integer")
    for _field, low, high, label, kind in params.RANGE_FILTERS
    for name in (low, high)
) + (
    Param("quality", "Only files with this data-quality flag (group DQ)"),
    Param("site", "Only files with an available copy at this site"),
    Param("storage", "Only files with an available disk copy, only on tape, or recalled",
          enum=STORAGE_FILTERS),
)  # fmt: skip
PAGING_PARAMS = (
    Param("page", "Page number, from 1", "integer"),
    Param("per_page", "Files per page", "integer"),
    Param("sort", "Order of the files", enum=params.FILE_ORDERS),
    Param("order", "Direction", enum=("asc", "desc")),
)


def crumbs(selection: PathSelection) -> list[dict[str, Any]]:
    """Links to each level above, for the breadcrumb trail."""
    trail: list[dict[str, Any]] = [{"label": "All configurations", "value": None, "query": {}}]
    for depth in range(1, selection.depth + 1):
        _name, _level, attribute, label = PATH_LEVELS[depth - 1]
        trail.append({
            "label": label,
            "value": getattr(selection.path, attribute),
            "query": selection.prefix(depth).query(),
        })  # fmt: skip
    return trail


def _totals(values: list[dict[str, Any]]) -> dict[str, int]:
    return {key: sum(item[key] for item in values) for key in ("files", "events", "bytes")}


@pages.page("/browse", "browse.html", "One level of the bookkeeping path, with counts",
            PATH_PARAMS, response="Browse")  # fmt: skip
def browse() -> dict[str, Any]:
    selection = params.dataset_path(request.args)
    if selection.complete:
        raise WebError(
            400,
            "every level is chosen: this is a dataset, see /dataset",
            dataset=selection.query(),
        )
    name, level, _attribute, label = PATH_LEVELS[selection.depth]
    values = plain(reader().level_values(level, selection.path))
    if not values and selection.depth > 0:
        raise not_found("no files under this bookkeeping path", path=selection.query())
    for item in values:
        item["query"] = selection.with_value(item["value"]).query()
    return {
        "path": selection.query(),
        "crumbs": crumbs(selection),
        "level": {"name": name, "label": label, "depth": selection.depth},
        "next_is_dataset": selection.depth == len(PATH_LEVELS) - 1,
        "values": values,
        "totals": _totals(values),
    }


def quality_facet(selection: PathSelection) -> list[dict[str, Any]]:
    """Each data-quality flag with the number of files the dataset would keep with it (the
    other filters applied): one grouped count for all the flags (``quality_counts``)."""
    flags = tuple(current_app.config["DQ_FLAGS"])
    counts = reader().quality_counts(selection.path, flags)
    facet = []
    for flag in flags:
        count = counts[flag]
        query = {**selection.query(), "quality": flag}
        query.pop("page", None)
        facet.append({"value": flag, "files": count, "query": query,
                      "selected": selection.path.quality == flag})  # fmt: skip
    return facet


def _share(share: StorageShare) -> dict[str, Any]:
    return {
        "files": share.files,
        "bytes": share.bytes,
        **{kind: {"files": getattr(share, f"{kind}_files"),
                  "bytes": getattr(share, f"{kind}_bytes")} for kind in STORAGE_FILTERS},
        "sites": [{"site": s.site, "files": s.files, "bytes": s.bytes} for s in share.sites],
    }  # fmt: skip


def storage_facets(
    selection: PathSelection, share: StorageShare
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The storage and site facets: what each choice would leave under the other filters
    (``share`` is the selection's own; one more share per copy filter set)."""
    path = selection.path
    base = share if path.storage is None else reader().storage_share(replace(path, storage=None))
    storage = []
    for kind in STORAGE_FILTERS:
        query = {**selection.query(), "storage": kind}
        storage.append({"value": kind, "label": params.STORAGE_LABELS[kind],
                        "files": getattr(base, f"{kind}_files"), "query": query,
                        "selected": path.storage == kind})  # fmt: skip
    at_sites = share if path.site is None else reader().storage_share(replace(path, site=None))
    counts = {item.site: item.files for item in at_sites.sites}
    if path.site is not None:
        counts.setdefault(path.site, 0)  # the chosen site stays offered even when empty
    sites = [{"value": site, "files": files, "query": {**selection.query(), "site": site},
              "selected": path.site == site} for site, files in sorted(counts.items())]  # fmt: skip
    return storage, sites


def complete_selection() -> PathSelection:
    selection = params.dataset_path(request.args)
    if not selection.complete:
        missing = [name for name, *_ in PATH_LEVELS[selection.depth :]]
        raise WebError(400, "a dataset needs every level of the path", missing=missing)
    return selection


def paging() -> dict[str, Any]:
    config = current_app.config
    per_page = params.integer(
        request.args, "per_page", config["PAGE_SIZE"], minimum=1,
        maximum=config["MAX_PAGE_SIZE"],
    )  # fmt: skip
    return {
        "page": params.integer(request.args, "page", 1, minimum=1, maximum=10**9),
        "per_page": per_page,
        "sort": params.choice(request.args, "sort", params.FILE_ORDERS, "lfn"),
        "order": params.choice(request.args, "order", ("asc", "desc"), "asc"),
    }


@pages.page("/dataset", "dataset.html",
            "A dataset: a page of its files, totals, locations, sites",
            PATH_PARAMS + FILTER_PARAMS + PAGING_PARAMS, response="Dataset")  # fmt: skip
def dataset() -> dict[str, Any]:
    # The page's calls (files, productions, DQ counts, storage share) read the dataset's
    # structure once (the catalogue's roottree entries: two statements, not eight).
    with reader().shared_reads():
        return _dataset()


def _dataset() -> dict[str, Any]:
    selection = complete_selection()
    paged = paging()
    page, per_page = paged["page"], paged["per_page"]
    result = reader().files(
        selection.path,
        offset=(page - 1) * per_page,
        limit=per_page,
        order_by=paged["sort"],
        descending=paged["order"] == "desc",
    )
    if (
        result.total_files == 0
        and not selection.path.has_file_filters
        and (selection.path.production_range is None)
    ):
        raise not_found("no files in this dataset", path=selection.query())
    pages_total = max(1, -(-result.total_files // per_page))
    if page > pages_total:
        raise not_found(f"page {page} is past the last page ({pages_total})", pages=pages_total)
    files = plain(result.files)
    page_copies(files)
    productions = plain(reader().level_values(Level.PRODUCTION, selection.path))
    for item in productions:
        item["query"] = {**selection.query(), "production": item["value"]}
    unfiltered = selection.without_filters()
    share = reader().storage_share(selection.path)
    storage_facet, site_facet = storage_facets(selection, share)
    # The per-site summary is the share's sites (available copies, distinct files): no
    # second read of the dataset's files and copies (issue 23).
    summary = {"computed": True, "sites": _share(share)["sites"]}
    return {
        "path": selection.query(),
        "dataset": unfiltered.query(),
        "crumbs": crumbs(selection),
        "filters": {
            "active": params.active_filters(selection.path),
            "values": params.filter_query(selection.path),
            "quality": quality_facet(selection),
            "storage": storage_facet,
            "site": site_facet,
        },
        "storage_share": _share(share),
        "totals": {
            "files": result.total_files,
            "events": result.total_events,
            "bytes": result.total_bytes,
            # From the share (one statement with it), not a bk ls count of its own: the
            # same copies the per-file badges show, under every filter (issue 23).
            "files_on_disk": share.disk_or_recalled_files,
        },
        "paging": {**paged, "pages": pages_total},
        "files": files,
        "productions": productions,
        "site_summary": summary,
    }
