"""The application factory's body (see ``webui.create_app``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, redirect, request, session, url_for
from werkzeug.wrappers import Response

from bookkeeping.engines import create_engine
from bookkeeping.replication.routing import attach_replicas
from bookkeeping.writer.model import RESERVED_JOB_PARAMETERS
from webui import aggregation, state
from webui.catalogue_access import USER_KEY
from webui.config import resolve_config
from webui.csrf import csrf_token
from webui.errors import WebError, register_error_handlers
from webui.formatting import register_filters
from webui.json_provider import HtmlSafeJSONProvider
from webui.openapi import openapi_blueprint
from webui.pages import API_PREFIX, Pages
from webui.params import RANGE_FILTERS, Int64Converter
from webui.views import (
    api_docs,
    browse,
    catalogue,
    catalogue_forms,
    catalogue_schema,
    charts,
    downloads,
    file_changes,
    file_download,
    files,
    jobs,
    recall,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_QUERY_STRING = 8192  # bytes; no page needs more, and every parameter is parsed
PAGE_GROUPS: tuple[Pages, ...] = (browse.pages, files.pages, catalogue.pages, recall.pages)
# Importing these registers their form routes on the catalogue's blueprint.
_FORMS = (catalogue_forms, catalogue_schema)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = Int64Converter
    app.json = HtmlSafeJSONProvider(app)
    app.config.update(resolve_config(overrides))
    engine = create_engine(app.config["DATABASE_URL"])
    if app.config["READ_REPLICAS"]:
        # Pages read from the standbys; writes (and reads after them) use the primary.
        attach_replicas(
            engine, app.config["READ_REPLICAS"], max_lag_s=app.config["REPLICA_MAX_LAG"]
        )
    state.init_app(app, engine)
    register_filters(app)
    register_error_handlers(app)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Job parameters the writer stores from the job's own fields, shown once on file pages.
    app.jinja_env.globals["shown_job_parameters"] = RESERVED_JOB_PARAMETERS
    app.jinja_env.globals["session_user"] = lambda: session.get(USER_KEY)
    app.jinja_env.globals["attribute_types"] = catalogue_schema.SUGGESTED_TYPES
    app.jinja_env.globals["filter_ranges"] = RANGE_FILTERS
    app.jinja_env.globals["recall_configured"] = recall.recall_configured

    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for group in PAGE_GROUPS:
        app.register_blueprint(group.html)
        api.register_blueprint(group.api)
    api.register_blueprint(jobs.blueprint)
    api.register_blueprint(file_changes.blueprint)
    dataset_params = browse.PATH_PARAMS + browse.FILTER_PARAMS
    specs = [s for g in PAGE_GROUPS for s in g.specs]
    api.register_blueprint(openapi_blueprint(specs, dataset_params))
    app.register_blueprint(api)
    app.register_blueprint(downloads.blueprint)
    app.register_blueprint(file_download.blueprint)
    app.register_blueprint(charts.blueprint)
    app.register_blueprint(api_docs.blueprint)
    aggregation.init_app(app)

    @app.before_request
    def bounded_query_string() -> None:
        # Longer request lines are refused before the application by the server:
        # bk web serve's gunicorn worker answers those in the same JSON shape (serving.py).
        if len(request.query_string) > MAX_QUERY_STRING:
            raise WebError(
                414, f"the query string is longer than {MAX_QUERY_STRING} bytes",
                length=len(request.query_string),
            )  # fmt: skip

    @app.after_request
    def name_the_backend(response: Response) -> Response:
        # Pages look the same whichever back-end serves them; operators can tell by this.
        response.headers["X-Bookkeeping-Backend"] = app.config["BOOKKEEPING_BACKEND"]
        # No scripts anywhere: forbid them outright, and framing (clickjacking on forms).
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("browse.browse"))

    return app
