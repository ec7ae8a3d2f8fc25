"""The dataset browser: the bookkeeping path level by level, then the dataset's files."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from bookkeeping.interface import Comparison, Level, ListingQuery, Logical
from webui import params
from webui.errors import WebError, not_found
from webui.pages import Pages, Param
from webui.params import PATH_LEVELS, PathSelection
from webui.plain import plain
from webui.sites import page_sites, site_summary
from webui.state import reader

pages = Pages("browse")

PATH_PARAMS = tuple(
    Param(name, f"{label} (set the levels from the top)", "integer" if name in
          params.INTEGER_PARAMETERS else "string")
    for name, _level, _attribute, label in PATH_LEVELS
) + (Param("production", "Only this production", "integer"),)  # fmt: skip
PAGING_PARAMS = (
    Param("page", "Page number, from 1", "integer"),
    Param("per_page", "Files per page", "integer"),
    Param("sort", "Order of the files", enum=params.FILE_ORDERS),
    Param("order", "Direction", enum=("asc", "desc")),
)


def crumbs(selection: PathSelection) -> list[dict[str, Any]]:
    """Links to each level above, for the breadcrumb trail."""
    trail = [{"label": "All configurations", "value": None, "query": {}}]
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


def _locations(lfns: list[str], file_type: str) -> dict[str, dict[str, Any]]:
    """Where each file of a page has copies, in one listing query for the whole page."""
    if not lfns:
        return {}
    where = Logical("and", (Comparison("lfn", "in", tuple(lfns)),))
    listed = reader().iter_listing(ListingQuery(file_type, where))
    return {item.lfn: plain(item) for item in listed}


def _disk_count(selection: PathSelection) -> int:
    path = selection.path
    conditions = [
        Comparison("config", "=", (path.config_name,)),
        Comparison("configversion", "=", (path.config_version,)),
        Comparison("conditions", "=", (path.conditions,)),
        Comparison("processingpass", "=", (path.processing_pass,)),
        Comparison("eventtype", "=", (path.event_type,)),
    ]
    if path.production is not None:
        conditions.append(Comparison("production", "=", (path.production,)))
    query = ListingQuery(path.file_type, Logical("and", tuple(conditions)), disk_only=True)  # type: ignore[arg-type]
    return reader().count_listing(query)


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
            PATH_PARAMS + PAGING_PARAMS, response="Dataset")  # fmt: skip
def dataset() -> dict[str, Any]:
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
    if result.total_files == 0:
        raise not_found("no files in this dataset", path=selection.query())
    pages_total = -(-result.total_files // per_page)
    if page > pages_total:
        raise not_found(f"page {page} is past the last page ({pages_total})", pages=pages_total)
    files = plain(result.files)
    locations = _locations([item["lfn"] for item in files], selection.path.file_type or "")
    limit = current_app.config["SITE_SUMMARY_MAX_FILES"]
    summary, known = site_summary(selection.path, result.total_files, limit)
    sites = page_sites([item["file_id"] for item in files], known)
    for item in files:
        item["location"] = locations.get(item["lfn"])
        item["sites"] = sites[item["file_id"]]
    productions = plain(reader().level_values(Level.PRODUCTION, selection.path))
    return {
        "path": selection.query(),
        "crumbs": crumbs(selection),
        "totals": {
            "files": result.total_files,
            "events": result.total_events,
            "bytes": result.total_bytes,
            "files_on_disk": _disk_count(selection),
        },
        "paging": {**paged, "pages": pages_total},
        "files": files,
        "productions": productions,
        "site_summary": summary,
    }
