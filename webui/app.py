"""The application factory's body (see ``webui.create_app``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, redirect, session, url_for
from werkzeug.wrappers import Response

from bookkeeping.engines import create_engine
from bookkeeping.writer.model import RESERVED_JOB_PARAMETERS
from webui import state
from webui.catalogue_access import USER_KEY
from webui.config import resolve_config
from webui.csrf import csrf_token
from webui.errors import register_error_handlers
from webui.formatting import register_filters
from webui.json_provider import HtmlSafeJSONProvider
from webui.openapi import openapi_blueprint
from webui.pages import API_PREFIX, Pages
from webui.views import (
    browse,
    catalogue,
    catalogue_forms,
    catalogue_schema,
    charts,
    downloads,
    file_changes,
    files,
    jobs,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_GROUPS: tuple[Pages, ...] = (browse.pages, files.pages, catalogue.pages)
# Importing these registers their form routes on the catalogue's blueprint.
_FORMS = (catalogue_forms, catalogue_schema)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.json = HtmlSafeJSONProvider(app)
    app.config.update(resolve_config(overrides))
    engine = create_engine(app.config["DATABASE_URL"])
    state.init_app(app, engine)
    register_filters(app)
    register_error_handlers(app)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Job parameters the writer stores from the job's own fields, shown once on file pages.
    app.jinja_env.globals["shown_job_parameters"] = RESERVED_JOB_PARAMETERS
    app.jinja_env.globals["session_user"] = lambda: session.get(USER_KEY)
    app.jinja_env.globals["attribute_types"] = catalogue_schema.SUGGESTED_TYPES

    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for group in PAGE_GROUPS:
        app.register_blueprint(group.html)
        api.register_blueprint(group.api)
    api.register_blueprint(jobs.blueprint)
    api.register_blueprint(file_changes.blueprint)
    api.register_blueprint(openapi_blueprint([s for g in PAGE_GROUPS for s in g.specs]))
    app.register_blueprint(api)
    app.register_blueprint(downloads.blueprint)
    app.register_blueprint(charts.blueprint)

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
