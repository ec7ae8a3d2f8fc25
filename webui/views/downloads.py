"""A dataset's file list as a download: LFNs (txt), CSV (pandas), JSON, a Python snippet.

Lists are streamed from ``Bookkeeping.iter_files`` in chunks, so a dataset of millions of
files never sits in memory. The path is checked before the first byte is sent.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import asdict

import pandas as pd
from flask import Blueprint, Response, stream_with_context

from bookkeeping.interface import FileRecord
from webui.errors import not_found
from webui.params import PathSelection
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


def _chunks(records: Iterator[FileRecord]) -> Iterator[list[FileRecord]]:
    while chunk := list(itertools.islice(records, CHUNK)):
        yield chunk


def _filename(selection: PathSelection, suffix: str) -> str:
    path = selection.path
    parts = [path.config_name, path.config_version, str(path.event_type), path.file_type]
    if path.production is not None:
        parts.append(str(path.production))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join(str(p) for p in parts)).strip("_")
    return f"{stem}_{suffix}"


def _lfns(selection: PathSelection) -> Iterator[str]:
    for chunk in _chunks(_records(selection)):
        yield "".join(f"{record.lfn}\n" for record in chunk)


def _csv(selection: PathSelection) -> Iterator[str]:
    header = True
    for chunk in _chunks(_records(selection)):
        yield pd.DataFrame([asdict(record) for record in chunk]).to_csv(
            index=False, header=header, lineterminator="\n"
        )
        header = False
    if header:  # emptied since the check above: still a header line
        yield ",".join(FileRecord.__dataclass_fields__) + "\n"


def _json(selection: PathSelection) -> Iterator[str]:
    yield "["
    first = True
    for chunk in _chunks(_records(selection)):
        for record in chunk:
            yield ("\n" if first else ",\n") + json.dumps(plain(record))
            first = False
    yield "\n]\n"


def _python(selection: PathSelection) -> Iterator[str]:
    path = plain(selection.path)
    described = ", ".join(f"{key}={value!r}" for key, value in path.items() if value is not None)
    yield (
        f"# Input files of the dataset {described}\n"
        "# e.g. for Ganga: LHCbDataset(['LFN:' + lfn for lfn in input_files])\n"
        "input_files = [\n"
    )
    for chunk in _chunks(_records(selection)):
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
        f'attachment; filename="{_filename(selection, suffix)}"'
    )
    return response
