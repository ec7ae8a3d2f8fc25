"""``POST /api/v1/files/visibility`` and ``POST /api/v1/files/replicas``: changes to recorded
files by the configured ``BookkeepingWriter``, with the API token of ``POST /api/v1/jobs``.

Bodies are JSON. Every file of a request changes or none does
(bookkeeping/writer/changes.py); the answer says how many changed. An unknown LFN or copy is
404, a copy in the way 409, a malformed request 400 or 422, each with the error's code.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from bookkeeping.interface import BookkeepingWriter, ReplicaKey, ReplicaSpec
from webui.errors import WebError
from webui.state import state
from webui.views.jobs import authenticated_user, unauthorised

blueprint = Blueprint("file_changes", __name__)

MAX_BODY_BYTES = 16 * 1024 * 1024  # 100,000 LFNs of 160 characters
_COPY_FIELDS = ("site", "storage_class", "area")


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise WebError(415, "send the change as application/json", content_type=request.mimetype)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise WebError(413, f"a change may not exceed {MAX_BODY_BYTES} bytes")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise WebError(400, "the body must be a JSON object")
    return body


_MISSING = object()


def _field(body: dict[str, Any], name: str, kind: type, default: Any = _MISSING) -> Any:
    if name not in body:
        if default is _MISSING:
            raise WebError(422, f"field {name!r} is missing", field=name)
        return default
    value = body[name]
    if value is None and default is None:
        return None
    if not isinstance(value, kind):
        raise WebError(422, f"field {name!r} must be a {kind.__name__}", field=name)
    return value


def _lfns(body: dict[str, Any]) -> list[str]:
    lfns = _field(body, "lfns", list)
    if not all(isinstance(lfn, str) for lfn in lfns):
        raise WebError(422, "field 'lfns' must be a list of strings", field="lfns")
    return lfns


def _answer(changed: int, lfns: list[str], user: str) -> Response:
    return jsonify({"changed": changed, "files": len(set(lfns)), "changed_by": user})


@blueprint.post("/files/visibility")
def visibility() -> Response:
    """``{"lfns": [...], "visible": false}``."""
    user = authenticated_user()
    body = _body()
    lfns = _lfns(body)
    visible = _field(body, "visible", bool)
    return _answer(state().writer.set_visibility(lfns, visible), lfns, user)


@blueprint.post("/files/replicas")
def replicas() -> Response:
    """``{"action": "add" | "remove" | "change", "lfns": [...], "site", "storage_class",
    "area"}`` (the copy), with ``status`` and ``pfn`` to add, ``status``, ``pfn`` and
    ``new_area`` to change."""
    user = authenticated_user()
    body = _body()
    lfns = _lfns(body)
    action = _field(body, "action", str)
    site, storage_class = _field(body, "site", str), _field(body, "storage_class", str)
    area = _field(body, "area", str, "")
    writer: BookkeepingWriter = state().writer
    if action == "add":
        spec = ReplicaSpec(
            site,
            storage_class,
            area,
            _field(body, "status", str, "available"),
            _field(body, "pfn", str, ""),
        )
        changed = writer.add_replicas(lfns, spec)
    elif action == "remove":
        changed = writer.remove_replicas(lfns, ReplicaKey(site, storage_class, area))
    elif action == "change":
        changed = writer.change_replicas(
            lfns,
            ReplicaKey(site, storage_class, area),
            status=_field(body, "status", str, None),
            pfn=_field(body, "pfn", str, None),
            area=_field(body, "new_area", str, None),
        )
    else:
        raise WebError(422, "field 'action' must be add, remove or change", field="action")
    return _answer(changed, lfns, user)


blueprint.after_request(unauthorised)
