"""A dataset's file list as a download: LFNs (txt), CSV (pandas), JSON, a Python snippet.

Lists are streamed from ``Bookkeeping.iter_files`` in chunks, so a dataset of millions of
files never sits in memory. The path is checked before the first byte is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime

import pandas as pd
from flask import Blueprint, Response, stream_with_context

from bookkeeping.chunking import chunked
from bookkeeping.interface import FileRecord
from webui.errors import not_found
from webui.params import MAX_PRODUCTION, PathSelection
from webui.plain import plain
from webui.state import reader
from webui.views.browse import complete_selection

blueprint = Blueprint("downloads", __name__, url_prefix="/dataset")

CHUNK = 2000
FORMATS = {  # suffix: (mimetype, description)
    "lfns.txt": ("text/plain", "LFN list, one per line"),
    "files.csv": ("text/csv", "CSV with every file's metadata"),
    "files.json": ("application/json", "JSON array of files"),
    "files.py": ("text/x-python", "Python snippet listing the input files"),
}


def _records(selection: PathSelection) -> Iterator[FileRecord]:
    return reader().iter_files(selection.path, order_by="lfn")


# Short names of the filters in a download's file name (the range's two ends follow).
_NAME_PARTS = {
    "production_range": "prod",
    "run_range": "run",
    "created_range": "created",
    "events_range": "events",
    "size_range": "size",
}


def dataset_file_name(selection: PathSelection, suffix: str) -> str:
    """One name scheme for every format: the whole bookkeeping path, then the production
    and each filter, then the format; two datasets (or filters) differing anywhere get
    different names."""
    path = selection.path
    parts = [
        path.config_name,
        path.config_version,
        path.conditions,
        path.processing_pass,
        str(path.event_type),
        path.file_type,
    ]
    if path.production is not None:
        parts.append(f"prod{path.production}")
    for field, label in _NAME_PARTS.items():
        bounds = getattr(path, field)
        if bounds is not None:
            if field == "production_range":  # open ends are stored as 0 and the largest
                bounds = tuple(None if v in (0, MAX_PRODUCTION) else v for v in bounds)
            low, high = (_bound_text(value) for value in bounds)
            parts.append(f"{label}{low}-{high}")
    if path.quality is not None:
        parts.append(f"DQ-{path.quality}")
    if path.site is not None:
        parts.append(f"site-{path.site}")
    if path.storage is not None:
        parts.append(path.storage)
    stem = "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", str(p)).strip("-") for p in parts)
    return f"{stem}_{suffix}"


def _bound_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%dT%H%M%S")
    return str(value)


def _lfns(selection: PathSelection) -> Iterator[str]:
    for chunk in chunked(_records(selection), CHUNK):
        yield "".join(f"{record.lfn}\n" for record in chunk)


def _csv(selection: PathSelection) -> Iterator[str]:
    header = True
    for chunk in chunked(_records(selection), CHUNK):
        yield pd.DataFrame([asdict(record) for record in chunk]).to_csv(
            index=False, header=header, lineterminator="\n"
        )
        header = False
    if header:  # emptied since the check above: still a header line
        yield ",".join(FileRecord.__dataclass_fields__) + "\n"


def _json(selection: PathSelection) -> Iterator[str]:
    yield "["
    first = True
    for chunk in chunked(_records(selection), CHUNK):
        for record in chunk:
            yield ("\n" if first else ",\n") + json.dumps(plain(record))
            first = False
    yield "\n]\n"


def _python(selection: PathSelection) -> Iterator[str]:
    described = ", ".join(f"{key}={value!r}" for key, value in selection.query().items())
    yield (
        f"# Input files of the dataset {described}\n"
        "# e.g. for Ganga: LHCbDataset(['LFN:' + lfn for lfn in input_files])\n"
        "input_files = [\n"
    )
    for chunk in chunked(_records(selection), CHUNK):
        yield "".join(f"    {record.lfn!r},\n" for record in chunk)
    yield "]\n"


_WRITERS = {"lfns.txt": _lfns, "files.csv": _csv, "files.json": _json, "files.py": _python}


@blueprint.get("/<any('lfns.txt','files.csv','files.json','files.py'):suffix>")
def download(suffix: str) -> Response:
    selection = complete_selection()
    # Answered before the first byte, as /dataset answers it: an empty 200 would look like
    # a dataset without files to a script that fetches the list.
    if reader().files(selection.path, limit=1).total_files == 0:
        raise not_found("no files in this dataset", path=selection.query())
    mimetype, _description = FORMATS[suffix]
    body = stream_with_context(_WRITERS[suffix](selection))
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{dataset_file_name(selection, suffix)}"'
    )
    return response
