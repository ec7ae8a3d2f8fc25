"""A file's page (metadata, parameters, job, relatives, replicas) and the search."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask import Response, current_app, request

from bookkeeping.interface import (
    Comparison,
    DatasetPath,
    FileRecord,
    JobRecord,
    Level,
    ListingQuery,
    Logical,
)
from webui import params, search_kinds
from webui.errors import bad_parameter, not_found
from webui.pages import Pages, Param
from webui.params import PATH_LEVELS, PathSelection
from webui.plain import plain
from webui.state import reader
from webui.views.browse import crumbs
from webui.views.file_download import replicas_with_storage

pages = Pages("files")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PREFIXES = ("lfn", "guid", "production", "run")


FILE_ID = Param("file_id", "The file's id", "integer", required=True, where="path")
JOB_ID = Param("job_id", "The job's id", "integer", required=True, where="path")
_JOB_DEPTH = 4  # a job fixes the path down to the processing pass


def job_selection(job: JobRecord, record: FileRecord | None = None) -> PathSelection:
    """The bookkeeping path of a job (down to its processing pass) or, with one of its
    files, of that file's dataset (every level)."""
    path = DatasetPath(job.config_name, job.config_version, job.conditions,
                       job.processing_pass)  # fmt: skip
    if record is None:
        return PathSelection(path, _JOB_DEPTH)
    path = DatasetPath(job.config_name, job.config_version, job.conditions,
                       job.processing_pass, record.event_type, record.file_type)  # fmt: skip
    return PathSelection(path, len(PATH_LEVELS))


def _links(selection: PathSelection, production: int) -> dict[str, Any]:
    return {
        "crumbs": crumbs(selection),
        "path": selection.query(),
        "production_query": {**selection.query(), "production": production},
    }


@pages.page("/file/<int:file_id>", "file.html", "One file with everything known about it",
            (FILE_ID,), response="FilePage")  # fmt: skip
def file(file_id: int) -> dict[str, Any]:
    bookkeeping = reader()
    record = bookkeeping.file_by_id(file_id)
    if record is None:
        raise not_found(f"no file with id {file_id}", file_id=file_id)
    depth = current_app.config["RELATIVES_DEPTH"]
    job = bookkeeping.job(record.job_id)
    links: dict[str, Any] = {"crumbs": [], "path": None, "production_query": None}
    if job is not None:
        links = _links(job_selection(job, record), record.production)
    return {
        **links,
        "file": plain(record),
        "parameters": plain(bookkeeping.file_parameters(file_id)),
        "quality": plain(bookkeeping.quality_flags(file_id)),
        "replicas": replicas_with_storage(file_id, bookkeeping.replicas(file_id)),
        "job": plain(job),
        "job_parameters": plain(bookkeeping.job_parameters(record.job_id)) if job else [],
        "ancestors": plain(bookkeeping.ancestors(file_id, depth)),
        "descendants": plain(bookkeeping.descendants(file_id, depth)),
        "relatives_depth": depth,
    }


def _job_outputs(job: JobRecord) -> list[dict[str, Any]]:
    """The files a job wrote: one listing per file type of its production's datasets, then
    their records in one batch."""
    selection = job_selection(job)
    path = replace(selection.path, production=job.production)
    lfns: list[str] = []
    for file_type in reader().level_values(Level.FILE_TYPE, path):
        where = Logical("and", (Comparison("jobid", "=", (job.job_id,)),))
        query = ListingQuery(str(file_type.value), where)
        lfns.extend(item.lfn for item in reader().iter_listing(query))
    if not lfns:
        return []
    return plain(reader().files_metadata(sorted(set(lfns))).found)


@pages.page("/job/<int:job_id>", "job.html",
            "One job: its path, production, parameters and output files",
            (JOB_ID,), response="JobPage")  # fmt: skip
def job(job_id: int) -> dict[str, Any]:
    bookkeeping = reader()
    record = bookkeeping.job(job_id)
    if record is None:
        raise not_found(f"no job with id {job_id}", job_id=job_id)
    return {
        **_links(job_selection(record), record.production),
        "job": plain(record),
        "parameters": plain(bookkeeping.job_parameters(job_id)),
        "files": _job_outputs(record),
    }


def interpret(query: str) -> list[dict[str, Any]]:
    """What a search box text means: ``kind:value`` explicitly; else a number is a
    production or a run, a GUID is a GUID, and anything else part of an LFN."""
    kind, sep, rest = query.partition(":")
    if sep and kind.strip().lower() in _PREFIXES and not query.startswith("/"):
        kind, value = kind.strip().lower(), rest.strip()
        if kind in ("production", "run"):
            if not (value.isascii() and value.isdigit() and len(value) < 19):
                raise bad_parameter("q", f"{kind} must be a number below 10^18", query)
            return [{kind: int(value)}]
        return [{kind: value}]
    if query.isdigit() and len(query) < 19:
        return [{"production": int(query)}, {"run": int(query)}]
    if _GUID.match(query):
        # GUIDs are stored as the job reported them; try the usual spellings.
        return [{"guid": guid} for guid in dict.fromkeys((query, query.lower(), query.upper()))]
    return [{"lfn": query}]


def kinds_for(query: str, criteria: list[dict[str, Any]]) -> set[str]:
    """Which kinds a query can name: a prefix names one; a number may be an event type, a
    production or a run; a GUID only a file; other text an event type, a pass or an LFN."""
    keys = {key for criterion in criteria for key in criterion}
    if ":" in query and not query.startswith("/") and len(criteria) == 1:
        return {"files", *({"productions"} if "production" in keys else ()),
                *({"runs"} if "run" in keys else ())}  # fmt: skip
    if "guid" in keys:
        return {"files"}
    if "run" in keys:
        return {"event_types", "productions", "runs", "files"}
    return {"event_types", "processing_passes", "files"}


SEARCH_PARAMS = (
    Param("q", "lfn:, guid:, production: or run: followed by a value; or a bare number "
               "(event type, production or run), GUID, or words (event type description or "
               "decay, processing pass, part of an LFN)"),
    Param("per_page", "Results per kind and page", "integer"),
) + tuple(Param(f"{kind}_page", f"Page of the {search_kinds.LABELS[kind].lower()}, from 1",
                "integer") for kind in search_kinds.KINDS)  # fmt: skip


def _find(kind: str, query: str, criteria: list[dict[str, Any]], offset: int,
          limit: int) -> search_kinds.Found:  # fmt: skip
    count_limit = current_app.config["SEARCH_COUNT_LIMIT"]
    if kind == "files":
        return search_kinds.files(criteria, offset, limit, count_limit)
    if kind == "runs":
        return search_kinds.runs(query, offset, limit, count_limit)
    finder = {
        "event_types": search_kinds.event_types,
        "processing_passes": search_kinds.processing_passes,
        "productions": search_kinds.productions,
    }[kind]
    return finder(query.split(":", 1)[-1] if kind == "productions" else query, offset, limit)


@pages.page("/search", "search.html",
            "Event types, processing passes, productions, runs and files, grouped by kind, "
            "each with its total and pages", SEARCH_PARAMS, response="Search")  # fmt: skip
def search() -> dict[str, Any]:
    query = (params.text(request.args, "q") or "").strip()
    config = current_app.config
    per_page = params.integer(request.args, "per_page", config["SEARCH_LIMIT"], minimum=1,
                              maximum=config["MAX_PAGE_SIZE"])  # fmt: skip
    assert per_page is not None
    if not query:
        return {"q": "", "criteria": [], "files": [], "truncated": False, "groups": []}
    criteria = interpret(query)
    wanted = kinds_for(query, criteria)
    groups = []
    for kind in search_kinds.KINDS:
        if kind not in wanted:
            continue
        page = params.integer(request.args, f"{kind}_page", 1, minimum=1, maximum=10**6)
        assert page is not None
        found = _find(kind, query, criteria, (page - 1) * per_page, per_page)
        groups.append({
            "kind": kind, "label": search_kinds.LABELS[kind], "total": found.total,
            "exact": found.exact, "page": page, "per_page": per_page,
            "pages": max(1, -(-found.total // per_page)), "results": found.items,
        })  # fmt: skip
    files_group = next((g for g in groups if g["kind"] == "files"), None)
    return {
        "q": query,
        "criteria": criteria,
        "groups": groups,
        "files": files_group["results"] if files_group else [],
        "truncated": bool(files_group and not files_group["exact"]),
    }


SUGGESTIONS = 10
# The search page runs one script of this server (the suggestions as you type) and fetches
# them from this server; the rest of the site runs none.
SEARCH_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@pages.page("/suggest", "suggest.html", "Suggestions for the search box as the user types",
            (Param("q", "What has been typed so far"),), response="Suggestions")  # fmt: skip
def suggest() -> dict[str, Any]:
    query = (params.text(request.args, "q") or "").strip()
    if not query:
        return {"q": "", "suggestions": []}
    return {"q": query, "suggestions": search_kinds.suggestions(query, SUGGESTIONS)}


@pages.html.after_request
def search_policy(response: Response) -> Response:
    if request.endpoint == "files.search":
        response.headers["Content-Security-Policy"] = SEARCH_POLICY
    return response
