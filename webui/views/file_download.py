"""A file's bytes through the web server: the best disk copy, streamed, never held whole.

``/file/<id>/download`` picks the file's available copies on registered disk storage
elements (disk pools first, then recall areas; tape is never read from the web), opens the
first that can be read and streams it in chunks, computing adler32 on the way. The size and
adler32 expected are sent as ``Content-Length`` and ``Digest: adler32=...``; a copy whose
bytes turn out different is cut short (the client sees an incomplete download) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, stream_with_context, url_for

from bookkeeping.interface import Replica
from bookkeeping.storage.checksum import CHUNK_SIZE, Adler32
from bookkeeping.storage.errors import ChecksumMismatch, StorageError
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.storage.tables import storage_elements
from bookkeeping.storage.transfer import expected_of, ranked_replicas
from webui.errors import not_found
from webui.plain import plain
from webui.state import reader, state

blueprint = Blueprint("file_download", __name__)
log = logging.getLogger(__name__)
READABLE_ROLES = ("daq", "offline", "mc", "recall")
REGISTRY_KEY = "storage_registry"


def _registry() -> StorageRegistry | None:
    """The SE registry, or None on a database laid out before it (looked up once)."""
    extensions = current_app.extensions
    if REGISTRY_KEY not in extensions:
        engine = state().engine
        present = sa.inspect(engine).has_table(storage_elements.name)
        extensions[REGISTRY_KEY] = StorageRegistry(engine) if present else None
    return extensions[REGISTRY_KEY]


def replicas_with_storage(file_id: int, replicas: Sequence[Replica]) -> list[dict[str, Any]]:
    """The file page's replicas, each with its SE's role and, for an available disk copy,
    the download URL."""
    registry = _registry()
    records = registry.records([r.se for r in replicas if r.se]) if registry else {}
    shown = []
    for replica in replicas:
        item = plain(replica)
        record = records.get(replica.se)
        item["role"] = record.role if record else None
        readable = record is not None and record.role in READABLE_ROLES
        item["download"] = (
            url_for("file_download.download", file_id=file_id)
            if readable and replica.status == "available"
            else None
        )
        shown.append(item)
    return shown


@blueprint.get("/file/<int:file_id>/download")
def download(file_id: int) -> Response:
    bookkeeping = reader()
    record = bookkeeping.file_by_id(file_id)
    if record is None:
        raise not_found(f"no file with id {file_id}", file_id=file_id)
    registry = _registry()
    copies = ranked_replicas(registry, bookkeeping.replicas(file_id)) if registry else []
    disk = [(r, se) for r, se in copies if se.role in READABLE_ROLES]
    if not disk:
        raise not_found(
            f"{record.lfn} has no available disk copy to download (a tape copy must be "
            "recalled first)",
            file_id=file_id,
        )
    size, adler32 = expected_of(bookkeeping, record)
    assert registry is not None
    for replica, se in disk:
        element = registry.open(se)
        try:
            opened = element.open_read(replica.path)
            stream = opened.__enter__()
        except StorageError as exc:
            log.warning("download of %s: %s", record.lfn, exc)
            element.close()
            continue
        name = record.lfn.rsplit("/", 1)[-1]
        body = _stream(stream, opened, element, size, adler32, f"{record.lfn} on {se.name}")
        response = Response(stream_with_context(body), mimetype="application/octet-stream")
        response.headers["Content-Length"] = str(size)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Digest"] = f"adler32={adler32}"
        response.headers["X-Storage-Element"] = se.name
        return response
    raise not_found(f"no disk copy of {record.lfn} can be read now", file_id=file_id)


def _stream(
    stream: Any, opened: Any, element: Any, size: int, adler32: str, what: str
) -> Iterator[bytes]:
    running = Adler32()
    try:
        while chunk := stream.read(CHUNK_SIZE):
            running.update(chunk)
            yield chunk
        if (running.size, running.hexdigest()) != (size, adler32):
            error = ChecksumMismatch(
                f"{what}: read {running.size} bytes with adler32 {running.hexdigest()}, "
                f"not {size} and {adler32}"
            )
            log.error("%s", error)
            raise error  # cuts the response short: the client sees an incomplete download
    finally:
        opened.__exit__(None, None, None)
        element.close()
