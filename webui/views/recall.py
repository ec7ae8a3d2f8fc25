"""Recalls from the web: a signed-in user asks the recall daemon for the tape-only files of
a (filtered) dataset or of one file, then follows the request on its page.

The web UI is a client of the daemon (``bookkeeping.datahandling.client``) with a token of
its own, configured ``on_behalf``: it names the owner of each request, always the identity
signed in here (the session's user, or an API token's), never a value the browser sends.
A request page shows only its owner's request. Without a configured or reachable daemon
the pages say so (503), never fail with a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from bookkeeping.chunking import chunked
from bookkeeping.datahandling.client import RecallClient
from bookkeeping.datahandling.errors import RecallRefused, RecallUnavailable
from bookkeeping.interface import FileRecord
from webui import params
from webui.catalogue_access import ANONYMOUS, current_user
from webui.csrf import check_csrf
from webui.errors import WebError
from webui.pages import Pages, Param
from webui.state import reader

pages = Pages("recall")
CHUNK = 500  # files per replicas_of call
DISK_CLASSES = frozenset({"disk", "recall"})
# The request page runs one script of this server, which polls this server's JSON twin.
PROGRESS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REQUEST_ID = Param("request_id", "The recall request's id", "integer", required=True,
                   where="path")  # fmt: skip


def recall_configured() -> bool:
    return bool(current_app.config.get("RECALL_URL"))


def _client() -> RecallClient:
    if not recall_configured():
        raise WebError(
            503,
            "recalls cannot be requested here: no recall daemon is configured for this web "
            "server (RECALL_URL / BK_RECALL_URL)",
            reason="recall-unconfigured",
        )
    config = current_app.config
    return RecallClient(config["RECALL_URL"], timeout=10.0, token=config["RECALL_TOKEN"] or "")


def _call(action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """A daemon call; its refusal of this web server is an operator's problem (503), told
    as such, as is a daemon that cannot be reached."""
    try:
        return call(*args, **kwargs)
    except RecallRefused as exc:
        raise WebError(
            503,
            f"the recall daemon refused this web server while {action} (check RECALL_TOKEN): "
            f"{exc.message}",
            reason="recall-refused",
        ) from None
    except RecallUnavailable as exc:
        raise WebError(503, f"the recall daemon cannot be reached while {action}: {exc.message}",
                       reason="recall-unavailable") from None  # fmt: skip


def signed_in_user() -> str:
    user = current_user()
    if user == ANONYMOUS:
        raise WebError(401, "log in to request a recall or follow one", reason="login")
    return user


def tape_only(records: Iterable[FileRecord]) -> Iterator[FileRecord]:
    """The records whose only available copies are on tape (nothing on disk, not recalled)."""
    for chunk in chunked(records, CHUNK):
        copies = reader().replicas_of([record.file_id for record in chunk])
        for record in chunk:
            classes = {c.storage_class for c in copies.get(record.file_id, ())
                       if c.status == "available"}  # fmt: skip
            if "tape" in classes and not classes & DISK_CLASSES:
                yield record


def _selected() -> tuple[list[FileRecord], str]:
    """The records the form names (one file, or a complete dataset path with its filters)
    and where to go back to."""
    file_id = params.integer(request.form, "file_id")
    if file_id is not None:
        record = reader().file_by_id(file_id)
        if record is None:
            raise WebError(404, f"no file with id {file_id}", file_id=file_id)
        return [record], url_for("files.file", file_id=file_id)
    selection = params.dataset_path(request.form)
    if not selection.complete:
        raise WebError(400, "name a file (file_id) or a whole dataset path to recall")
    limit = current_app.config["RECALL_MAX_FILES"]
    total = reader().files(selection.path, limit=0).total_files
    if total > limit:
        raise WebError(
            400,
            f"the selection has {total:,} files; narrow it with filters to at most {limit:,} "
            "files to request their recall",
            files=total,
            limit=limit,
        )
    back = url_for("browse.dataset", **selection.query())  # type: ignore[arg-type]
    return list(reader().iter_files(selection.path, order_by="lfn")), back


@pages.html.post("/recall")
def request_recall() -> Response:
    """The form of the dataset and file pages: recall the tape-only files named."""
    check_csrf()
    user = signed_in_user()
    client = _client()
    records, back = _selected()
    wanted = [record.lfn for record in tape_only(records)]
    if not wanted:
        flash("Nothing to recall: every selected file already has a disk or recalled copy.")
        return redirect(back, code=303)
    areas = [str(area) for area in request.form.getlist("area") if area]
    if not areas:
        areas = [area["name"] for area in _call("listing the recall areas", client.areas)]
    if not areas:
        raise WebError(503, "the recall daemon knows no recall area to recall into")
    lease = int(current_app.config["RECALL_LEASE"])
    answer = _call("submitting", client.submit, wanted, areas, owner=user, lease=lease)
    flash(f"Recall request {answer['request']} taken: {len(wanted)} tape-only files.")
    return redirect(url_for("recall.recall_request", request_id=answer["request"]), code=303)


def _owned(request_id: int) -> tuple[RecallClient, dict[str, Any]]:
    user = signed_in_user()
    client = _client()
    status = _call("reading the request", client.status, request_id)
    if status["owner"] != user:
        raise WebError(403, f"recall request {request_id} is not yours", request=request_id)
    return client, status


@pages.page("/recall/<int:request_id>", "recall.html",
            "A recall request of the signed-in user: its files waiting, ready and failed, "
            "their bytes, and its pins", (REQUEST_ID,), response="RecallRequest",
            errors=(401, 403))  # fmt: skip
def recall_request(request_id: int) -> dict[str, Any]:
    _client_unused, status = _owned(request_id)
    files = status["files"]
    sizes = {r.lfn: r.size for r in reader().files_metadata([f["lfn"] for f in files]).found}
    bytes_by_state = {"waiting": 0, "ready": 0, "failed": 0}
    for item in files:
        item["size"] = sizes.get(item["lfn"], 0)
        bytes_by_state[item["state"]] += item["size"]
    return {
        "request_id": status["request"],
        "owner": status["owner"],
        "areas": status["areas"],
        "done": status["done"],
        "counts": {**status["counts"], "total": len(files)},
        "bytes": {**bytes_by_state, "total": sum(bytes_by_state.values())},
        "problems": status.get("problems", []),
        "files": files,
        "pins": status.get("pins", []),
    }


@pages.html.post("/recall/<int:request_id>/release")
def release_recall(request_id: int) -> Response:
    """Unpin the request's files (the user is done with them)."""
    check_csrf()
    client, _status = _owned(request_id)
    released = _call("releasing", client.release, request_id)
    flash(f"Released {released} pins of recall request {request_id}.")
    return redirect(url_for("recall.recall_request", request_id=request_id), code=303)


@pages.html.after_request
def progress_policy(response: Response) -> Response:
    if request.endpoint == "recall.recall_request":
        response.headers["Content-Security-Policy"] = PROGRESS_POLICY
    return response
