"""A file's page (metadata, parameters, job, relatives, replicas) and the search."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request

from webui import params
from webui.errors import bad_parameter, not_found
from webui.pages import Pages, Param
from webui.plain import plain
from webui.state import reader

pages = Pages("files")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PREFIXES = ("lfn", "guid", "production", "run")


FILE_ID = Param("file_id", "The file's id", "integer", required=True, where="path")


@pages.page("/file/<int:file_id>", "file.html", "One file with everything known about it",
            (FILE_ID,), response="FilePage")  # fmt: skip
def file(file_id: int) -> dict[str, Any]:
    bookkeeping = reader()
    record = bookkeeping.file_by_id(file_id)
    if record is None:
        raise not_found(f"no file with id {file_id}", file_id=file_id)
    depth = current_app.config["RELATIVES_DEPTH"]
    job = bookkeeping.job(record.job_id)
    return {
        "file": plain(record),
        "parameters": plain(bookkeeping.file_parameters(file_id)),
        "quality": plain(bookkeeping.quality_flags(file_id)),
        "replicas": plain(bookkeeping.replicas(file_id)),
        "job": plain(job),
        "job_parameters": plain(bookkeeping.job_parameters(record.job_id)) if job else [],
        "ancestors": plain(bookkeeping.ancestors(file_id, depth)),
        "descendants": plain(bookkeeping.descendants(file_id, depth)),
        "relatives_depth": depth,
    }


def interpret(query: str) -> list[dict[str, Any]]:
    """What a search box text means: ``kind:value`` explicitly; else a number is a
    production or a run, a GUID is a GUID, and anything else part of an LFN."""
    kind, sep, rest = query.partition(":")
    if sep and kind.strip().lower() in _PREFIXES and not query.startswith("/"):
        kind, value = kind.strip().lower(), rest.strip()
        if kind in ("production", "run"):
            try:
                return [{kind: int(value)}]
            except ValueError:
                raise bad_parameter("q", f"{kind} must be a number, got {value!r}", query) from None
        return [{kind: value}]
    if query.isdigit() and len(query) < 19:
        return [{"production": int(query)}, {"run": int(query)}]
    if _GUID.match(query):
        # GUIDs are stored as the job reported them; try the usual spellings.
        return [{"guid": guid} for guid in dict.fromkeys((query, query.lower(), query.upper()))]
    return [{"lfn": query}]


@pages.page("/search", "search.html", "Files by LFN (substring), GUID, production or run",
            (Param("q", "lfn:, guid:, production: or run: followed by a value; or a bare "
                        "number (production or run), GUID or part of an LFN"),),
            response="Search")  # fmt: skip
def search() -> dict[str, Any]:
    query = (params.text(request.args, "q") or "").strip()
    if not query:
        return {"q": "", "criteria": [], "files": [], "truncated": False}
    limit = current_app.config["SEARCH_LIMIT"]
    criteria = interpret(query)
    found: dict[int, Any] = {}
    for criterion in criteria:
        for record in reader().search(limit=limit + 1, **criterion):
            found[record.file_id] = record
    files = sorted(found.values(), key=lambda record: (record.lfn, record.file_id))
    return {
        "q": query,
        "criteria": criteria,
        "files": plain(files[:limit]),
        "truncated": len(files) > limit,
    }
