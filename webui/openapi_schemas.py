"""JSON Schemas (OpenAPI 3.1 components) of the JSON twins' main fields and of the API's
answers. A test checks real answers against them (tests/webui/test_api.py)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], **optional: Schema) -> Schema:
    """An object with ``required`` properties (and more, not described, allowed)."""
    return {"type": "object", "required": list(required),
            "properties": {**required, **optional}}  # fmt: skip


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


INT: Schema = {"type": "integer"}
STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
NULLABLE_INT: Schema = {"type": ["integer", "null"]}
NULLABLE_STR: Schema = {"type": ["string", "null"]}
SCALAR: Schema = {"type": ["string", "integer", "number", "boolean", "null"]}
QUERY: Schema = {"type": "object", "description": "query-string parameters selecting a path",
                 "additionalProperties": {"type": ["string", "integer"]}}  # fmt: skip

TOTALS = obj({"files": INT, "events": INT, "bytes": INT}, files_on_disk=INT)
LEVEL_VALUE = obj({"value": {"type": ["string", "integer"]}, "files": INT, "events": INT,
                   "bytes": INT}, description=NULLABLE_STR, decay=NULLABLE_STR,
                  query=QUERY)  # fmt: skip
CRUMB = obj({"label": STR, "value": {"type": ["string", "integer", "null"]}, "query": QUERY})
FILE = obj({
    "file_id": INT, "lfn": STR, "guid": STR, "size": INT, "events": INT, "checksum": STR,
    "file_type": STR, "event_type": INT, "job_id": INT, "production": INT,
    "run": NULLABLE_INT, "creation_time": STR, "visible": BOOL, "quality": NULLABLE_STR,
})  # fmt: skip
LOCATION = obj({"lfn": STR, "size": INT, "on_disk": BOOL, "on_tape": BOOL,
                "recalled": array(STR)})  # fmt: skip
DATASET_FILE = {"allOf": [ref("File"), obj({
    "location": {"oneOf": [ref("Location"), {"type": "null"}],
                 "description": "available copies; null: none"},
    "sites": {**array(STR), "description": "sites with an available copy, sorted"},
})]}  # fmt: skip
SITE_SUMMARY = obj({
    "computed": {**BOOL, "description": "always true (kept for clients of the earlier "
                 "size-limited summary)"},
    "sites": array(obj({"site": STR, "files": INT, "bytes": INT})),
})  # fmt: skip
_PART = obj({"files": INT, "bytes": INT})
STORAGE_SHARE = {**obj({
    "files": INT, "bytes": INT, "disk": _PART, "tape": _PART, "recalled": _PART,
    "sites": array(obj({"site": STR, "files": INT, "bytes": INT})),
}), "description": "files and bytes of the filtered dataset with an available disk copy, "
    "only on tape (no available disk or recall copy), recalled; per site with an available "
    "copy there"}  # fmt: skip
REPLICA = obj({"site": STR, "storage_class": STR, "area": STR, "status": STR, "pfn": STR},
              se=STR, path=STR, role=NULLABLE_STR, download=NULLABLE_STR)  # fmt: skip
JOB = obj({
    "job_id": INT, "config_name": STR, "config_version": STR, "job_date": STR,
    "production": INT, "run": NULLABLE_INT, "conditions": STR, "processing_pass": STR,
    "dirac_job_id": INT,
})  # fmt: skip
NAME_VALUE = obj({"name": STR, "value": STR})
RELATIVE = obj({"depth": INT, "file_id": INT, "lfn": STR, "file_type": STR})
USER = obj({"name": STR, "logged_in": BOOL})
RIGHTS = obj({
    "directory": {**STR, "description": "rwx letters on the directory, - for a missing one"},
    "entry": {**NULLABLE_STR, "description": "on the entry (entry pages only)"},
    "write": {**BOOL, "description": "whether the user may change it"},
})  # fmt: skip
CATALOGUE_PAGING = obj({"page": INT, "per_page": INT, "more": BOOL})

PAGES: dict[str, Schema] = {
    "Browse": obj({
        "path": QUERY, "crumbs": array(ref("Crumb")),
        "level": obj({"name": STR, "label": STR, "depth": INT}),
        "next_is_dataset": BOOL, "values": array(ref("LevelValue")), "totals": ref("Totals"),
    }),
    "Dataset": obj({
        "path": QUERY, "crumbs": array(ref("Crumb")), "totals": ref("Totals"),
        "paging": obj({"page": INT, "per_page": INT, "sort": STR, "order": STR,
                       "pages": INT}),
        "files": array(ref("DatasetFile")), "productions": array(ref("LevelValue")),
        "site_summary": ref("SiteSummary"),
        "storage_share": STORAGE_SHARE,
    }),
    "FilePage": obj({
        "file": ref("File"), "parameters": array(ref("NameValue")),
        "quality": array(obj({"group": STR, "flag": STR})),
        "replicas": array(ref("Replica")), "job": {"oneOf": [ref("Job"), {"type": "null"}]},
        "job_parameters": array(ref("NameValue")), "ancestors": array(ref("Relative")),
        "descendants": array(ref("Relative")), "relatives_depth": INT,
        "crumbs": array(ref("Crumb")),
        "path": {"oneOf": [QUERY, {"type": "null"}],
                 "description": "the file's dataset (null: its job is unknown)"},
        "production_query": {"oneOf": [QUERY, {"type": "null"}],
                             "description": "the dataset, the file's production only"},
    }),
    "RecallRequest": obj({
        "request_id": INT, "owner": STR, "areas": array(STR), "done": BOOL,
        "counts": obj({"waiting": INT, "ready": INT, "failed": INT, "total": INT}),
        "bytes": obj({"waiting": INT, "ready": INT, "failed": INT, "total": INT}),
        "problems": array(STR),
        "files": array(obj({"lfn": STR, "state": {"enum": ["waiting", "ready", "failed"]},
                            "size": INT}, area=STR, path=STR, url=STR, error=STR)),
        "pins": array(obj({"lfn": STR, "area": STR, "expires": STR})),
    }),
    "JobPage": obj({
        "crumbs": array(ref("Crumb")), "path": QUERY, "production_query": QUERY,
        "job": ref("Job"), "parameters": array(ref("NameValue")), "files": array(ref("File")),
    }),
    "Search": obj({"q": STR, "criteria": array({"type": "object"}),
                   "files": {**array(ref("File")), "description": "the files group's page"},
                   "truncated": BOOL,
                   "groups": array(obj({
                       "kind": {"enum": ["event_types", "processing_passes", "productions",
                                         "runs", "files"]},
                       "label": STR, "total": INT,
                       "exact": {**BOOL, "description": "false: total is a lower bound"},
                       "page": INT, "per_page": INT, "pages": INT,
                       "results": array({"type": "object"}),
                   }))}),
    "Suggestions": obj({"q": STR, "suggestions": array(obj({
        "kind": {"enum": ["event_types", "processing_passes", "productions", "files"]},
        "value": STR, "label": STR}))}),
    "CatalogueDirectory": obj({
        "path": STR, "parents": array(STR), "user": ref("User"), "rights": ref("Rights"),
        "tree": array(obj({"path": STR, "children": array(STR)})),
        "subdirectories": array(STR), "attributes": array(obj({"name": STR, "type": STR})),
        "entries": array(obj({"name": STR, "path": STR, "values": array(SCALAR)})),
        "paging": ref("CataloguePaging"),
        "sort": obj({"by": STR, "order": {**STR, "enum": ["asc", "desc"]}}),
    }),
    "CatalogueEntry": obj({
        "path": STR, "directory": STR, "name": STR, "parents": array(STR),
        "user": ref("User"), "rights": ref("Rights"),
        "attributes": array(obj({"name": STR, "type": STR, "value": SCALAR})),
    }),
    "CatalogueQuery": obj({
        "dir": STR, "items": STR, "where": STR, "user": ref("User"),
        "columns": array(STR), "rows": array(array(SCALAR)),
        "paging": ref("CataloguePaging"), "ran": BOOL,
    }),
}  # fmt: skip

ANSWERS: dict[str, Schema] = {
    "Recorded": obj({"status": {"enum": ["recorded", "duplicate"]},
                     "job_id": NULLABLE_INT, "files": INT, "dirac_job_id": INT,
                     "recorded_by": STR}),
    "Changed": obj({"changed": {**INT, "description": "files that changed"},
                    "files": INT, "changed_by": STR}),
}  # fmt: skip

COMPONENTS: dict[str, Schema] = {
    "Totals": TOTALS, "LevelValue": LEVEL_VALUE, "Crumb": CRUMB, "File": FILE,
    "Location": LOCATION, "DatasetFile": DATASET_FILE, "SiteSummary": SITE_SUMMARY,
    "Replica": REPLICA, "Job": JOB, "NameValue": NAME_VALUE, "Relative": RELATIVE,
    "User": USER, "Rights": RIGHTS, "CataloguePaging": CATALOGUE_PAGING,
    **PAGES, **ANSWERS,
}  # fmt: skip
