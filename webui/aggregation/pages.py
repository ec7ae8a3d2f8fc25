"""Pages: build a search, see the quick answer, ask for a delivery, follow it, download it.

No scripts (the site's policy): the search is a GET form, the delivery request a POST form
with the CSRF token, and the delivery page refreshes itself while the worker copies. The
delivery's files and archive are served here read-only; ``send_file`` answers ``Range``
requests (``206 Partial Content``) and conditional ones. A delivery is reached by its token,
a random capability only its requester is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from bookkeeping.aggregation.composition import RUNS_DIR
from bookkeeping.aggregation.deliveries import COMPOSITIONS, Delivery
from bookkeeping.aggregation.errors import AggregationError
from bookkeeping.aggregation.filters import FILTER_FIELDS, TYPES, from_mapping
from bookkeeping.aggregation.preparation import ARCHIVE, FILES_DIR, MANIFEST
from webui.aggregation import aggregation
from webui.aggregation.identity import requester
from webui.csrf import check_csrf
from webui.errors import WebError, not_found

blueprint = Blueprint("aggregation", __name__, url_prefix="/aggregation")
PAGE = 50


def _form_filter() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, camel, kind in FILTER_FIELDS:
        raw = request.values.get(camel, "").strip()
        if not raw:
            continue
        if kind is int:
            try:
                values[camel] = int(raw)
            except ValueError:
                raise WebError(400, f"filter {camel} must be an integer, not {raw!r}") from None
        else:
            values[camel] = raw
        del name
    return values


@blueprint.get("/")
def search_page() -> str:
    given = _form_filter()
    answer = error = None
    delivery: Delivery | None = None
    if given:
        try:
            search = from_mapping(given)
            answer = aggregation().searches.search(search, PAGE, request.args.get("after"))
            user, signed_in = requester()
            if signed_in:
                delivery = aggregation().deliveries.find(user, answer.query_id, "original")
        except AggregationError as exc:
            error = exc.message
    return render_template(
        "aggregation/search.html",
        fields=FILTER_FIELDS,
        types=TYPES,
        given=given,
        answer=answer,
        error=error,
        delivery=delivery,
        compositions=COMPOSITIONS,
    )


@blueprint.post("/prepare")
def prepare() -> Response:
    check_csrf()
    given = _form_filter()
    composition = request.form.get("composition", "original")
    if composition not in COMPOSITIONS:
        raise WebError(400, f"composition must be one of {', '.join(COMPOSITIONS)}")
    service = aggregation()
    user, signed_in = requester()
    if not signed_in:  # deliveries belong to a user; anonymous is everyone
        raise WebError(401, "log in to prepare a delivery")
    try:
        search = from_mapping(given)
        answer = service.searches.search(search, 0)
        row = service.deliveries.request(
            user,
            search,
            checksum=answer.checksum,
            total=answer.total,
            total_bytes=answer.total_bytes,
            composition=composition,
        )
    except AggregationError as exc:
        raise WebError(400, exc.message, code=exc.code) from None
    if row.state == "queued":
        service.queued(row)
    return redirect(url_for("aggregation.delivery_directory", token=row.token))


def _delivery(token: str) -> Delivery:
    found = aggregation().deliveries.by_token(token)
    if found is None or found.state == "expired":
        raise not_found("no such delivery (it may have expired)")
    return found


def _ready_directory(delivery: Delivery) -> Path:
    if delivery.state != "ready":
        raise WebError(409, f"the delivery is {delivery.state}, not ready yet")
    aggregation().deliveries.touch(delivery.id)
    return aggregation().deliveries.directory(delivery)


@blueprint.get("/deliveries/<token>/")
def delivery_directory(token: str) -> Response:
    delivery = _delivery(token)
    manifest: list[tuple[Any, str | None]] = []
    merged: list[str] = []
    if delivery.state == "ready":
        aggregation().deliveries.touch(delivery.id)
        manifest = aggregation().deliveries.manifest(delivery.id)
        runs = aggregation().deliveries.directory(delivery) / RUNS_DIR
        if delivery.composition == "per-run" and runs.is_dir():
            merged = sorted(
                f"{RUNS_DIR}/{p.name}"
                for p in runs.iterdir()
                if p.is_file() and not p.name.startswith(".")
            )
    dav = url_for("aggregation.delivery_directory", token=token, _external=True).replace(
        "/aggregation/deliveries/", "/aggregation/dav/"
    )
    refresh = delivery.state in ("queued", "copying")
    response = Response(
        render_template(
            "aggregation/delivery.html",
            delivery=delivery,
            manifest=manifest,
            dav_url=dav,
            refresh=refresh,
            merged=merged,
            files_dir=FILES_DIR,
        ),
        content_type="text/html; charset=utf-8",
    )
    if refresh:  # the page follows the preparation without a script
        response.headers["Refresh"] = "2"
    return response


@blueprint.get(f"/deliveries/<token>/{ARCHIVE}")
def delivery_archive(token: str) -> Response:
    directory = _ready_directory(_delivery(token))
    return send_file(
        directory / ARCHIVE,
        mimetype="application/zip",
        conditional=True,
        download_name=ARCHIVE,
        as_attachment=True,
    )


@blueprint.get(f"/deliveries/<token>/{MANIFEST}")
def delivery_manifest(token: str) -> Response:
    directory = _ready_directory(_delivery(token))
    return send_file(directory / MANIFEST, mimetype="text/tab-separated-values", conditional=True)


@blueprint.get("/deliveries/<token>/<path:name>")
def delivery_file(token: str, name: str) -> Response:
    """A file of the delivery: ``files/<LFN>``, or ``runs/run<N>.dat`` when composed."""
    directory = _ready_directory(_delivery(token))
    path = safe_join(str(directory), name)
    hidden = any(part.startswith(".") for part in name.split("/"))
    if path is None or hidden or not Path(path).is_file():
        raise not_found(f"no file {name!r} in this delivery")
    return send_file(path, mimetype="application/octet-stream", conditional=True)
