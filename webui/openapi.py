"""The OpenAPI 3.1 document of the JSON API, generated from the page registrations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify

from bookkeeping import __version__
from webui.openapi_schemas import COMPONENTS, ref
from webui.pages import API_PREFIX, PageSpec, Param

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "message", "details"],
    "properties": {
        "status": {"type": "integer", "description": "the HTTP status"},
        "message": {"type": "string"},
        "details": {"type": "object", "description": "e.g. code, parameter, problems"},
    },
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ERROR_TEXTS = {
    400: "Bad parameter",
    401: "Not logged in (no anonymous user) or an unknown API token",
    403: "The user may not read this (checked by the catalogue)",
    404: "Not found",
    503: "Unavailable",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": _ERROR_TEXTS[status], "content": _ERROR_CONTENT}
        for status in sorted(statuses)
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": ref(schema)}}


def _parameter(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": param.type}
    if param.enum:
        schema["enum"] = list(param.enum)
    return {
        "name": param.name,
        "in": param.where,
        "required": param.required or param.where == "path",
        "description": param.description,
        "schema": schema,
    }


def _openapi_rule(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _operation(spec: PageSpec) -> dict[str, Any]:
    return {
        "summary": spec.summary,
        "operationId": spec.endpoint,
        "parameters": [_parameter(param) for param in spec.params],
        "responses": {
            "200": {"description": "The page's data as JSON", "content": _json(spec.response)},
            **_errors(400, 404, 503, *spec.errors),
        },
    }


JOBS_OPERATION: dict[str, Any] = {
    "summary": "Record a job report (XML or JSON); needs an API token (bk token create USER)",
    "operationId": "record_job",
    "security": [{"token": []}],
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    },
    "responses": {
        "201": {
            "description": "Recorded: job id and number of files",
            "content": _json("Recorded"),
        },
        "200": {
            "description": "Already recorded (same DIRAC job id): nothing written",
            "content": _json("Recorded"),
        },
        "401": {"description": "Missing or unknown token", "content": _ERROR_CONTENT},
        "409": {
            "description": "The report contradicts what is recorded",
            "content": _ERROR_CONTENT,
        },
        "415": {"description": "Neither XML nor JSON", "content": _ERROR_CONTENT},
        "422": {
            "description": "Invalid report: details.problems lists every problem",
            "content": _ERROR_CONTENT,
        },
    },
}


_CHANGE_RESPONSES = {
    "200": {
        "description": "Done: changed (files that changed), files, changed_by",
        "content": _json("Changed"),
    },
    **{
        status: {"description": text, "content": _ERROR_CONTENT}
        for status, text in (
            ("400", "The body is not a JSON object"),
            ("401", "Missing or unknown token"),
            ("404", "An unknown LFN (UnknownFile) or copy (UnknownReplica): nothing changed"),
            ("409", "A copy in the way (ReplicaConflict): nothing changed"),
            ("415", "Not JSON"),
            ("422", "A malformed field, LFN, site, class, area, status or PFN"),
        )
    },
}
_LFNS = {"type": "array", "items": {"type": "string"}}


def _change_operation(summary: str, operation_id: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary + "; every file changes or none does; needs an API token",
        "operationId": operation_id,
        "security": [{"token": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": _CHANGE_RESPONSES,
    }


VISIBILITY_OPERATION = _change_operation(
    "Make files invisible (LHCb never deletes them) or visible again",
    "set_visibility",
    {
        "type": "object",
        "required": ["lfns", "visible"],
        "properties": {"lfns": _LFNS, "visible": {"type": "boolean"}},
    },
)
REPLICAS_OPERATION = _change_operation(
    "Add, remove or change a copy of files",
    "change_replicas",
    {
        "type": "object",
        "required": ["action", "lfns", "site", "storage_class"],
        "properties": {
            "action": {"enum": ["add", "remove", "change"]},
            "lfns": _LFNS,
            "site": {"type": "string"},
            "storage_class": {"enum": ["tape", "disk", "recall"]},
            "area": {"type": "string", "description": "the disk area of a recall copy"},
            "status": {"enum": ["available", "lost"]},
            "pfn": {"type": "string"},
            "new_area": {"type": "string", "description": "change: a recall copy's new area"},
        },
    },
)


# Downloads and charts live beside the pages (not under /api/v1): their paths name their
# own server. Their parameters are the dataset page's (path levels and filters).
_SITE_ROOT = [{"url": "/"}]


def _download_operation(dataset_params: Sequence[Param]) -> dict[str, Any]:
    formats = {"type": "string", "enum": ["lfns.txt", "files.csv", "files.json", "files.py"]}
    return {
        "summary": "A dataset's file list as a download (streamed), filters applied; the "
        "file name encodes the whole path and the filters",
        "operationId": "download_dataset",
        "servers": _SITE_ROOT,
        "parameters": [
            {"name": "format", "in": "path", "required": True, "schema": formats},
            *(_parameter(param) for param in dataset_params),
        ],
        "responses": {
            "200": {
                "description": "The list: LFNs one per line, CSV, a JSON array or Python",
                "content": {
                    mimetype: {"schema": {"type": "string"}}
                    for mimetype in ("text/plain", "text/csv", "application/json", "text/x-python")
                },  # fmt: skip
            },
            **_errors(400, 404, 503),
        },
    }


def _chart_operation(dataset_params: Sequence[Param]) -> dict[str, Any]:
    choices = (
        Param("by", "Group by file type or production", enum=("filetype", "production")),
        Param("metric", "What the bars measure", enum=("events", "bytes", "files")),
        Param("layout", "Wide or narrow (phones)", enum=("wide", "narrow")),
    )
    return {
        "summary": "A bar chart of a dataset (or an event type's file types) as SVG",
        "operationId": "chart",
        "servers": _SITE_ROOT,
        "parameters": [_parameter(param) for param in (*dataset_params, *choices)],
        "responses": {
            "200": {
                "description": "The chart",
                "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            },
            **_errors(400, 503),
        },
    }


def document(specs: Iterable[PageSpec], dataset_params: Sequence[Param] = ()) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for spec in specs:
        for method in spec.methods:
            paths.setdefault(_openapi_rule(spec.rule), {})[method.lower()] = _operation(spec)
    paths["/jobs"] = {"post": JOBS_OPERATION}
    paths["/files/visibility"] = {"post": VISIBILITY_OPERATION}
    paths["/files/replicas"] = {"post": REPLICAS_OPERATION}
    paths["/dataset/{format}"] = {"get": _download_operation(dataset_params)}
    paths["/chart.svg"] = {"get": _chart_operation(dataset_params)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bookkeeping web API",
            "version": __version__,
            "description": "The JSON twin of every page of the web UI: put /api/v1 in front "
            "of a page's path. Errors have one shape: {status, message, details}.",
        },
        "servers": [{"url": API_PREFIX}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **COMPONENTS},
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_blueprint(specs: list[PageSpec], dataset_params: Sequence[Param] = ()) -> Blueprint:
    blueprint = Blueprint("openapi", __name__)

    @blueprint.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(document(specs, dataset_params))

    return blueprint
