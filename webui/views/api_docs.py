"""The API reference page: Swagger UI, served from this server (no CDN), reading
``/api/v1/openapi.json``; and the favicon."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Response, render_template, send_from_directory, url_for

blueprint = Blueprint("api_docs", __name__)

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")
# The page runs Swagger UI's own script (the rest of the site runs none) and fetches the
# document from this server; nothing else is allowed.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
STATIC = Path(__file__).resolve().parent.parent / "static"


@blueprint.get("/api-docs")
def docs() -> Response:
    page = render_template("api_docs.html", document=url_for("api.openapi.openapi"))
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@blueprint.get("/api-docs/assets/<any(" + ",".join(f"'{a}'" for a in _ASSETS) + "):name>")
def asset(name: str) -> Response:
    response = send_from_directory(SWAGGER_ASSETS, name, max_age=86400)
    return response


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico whatever the page links; answer with the SVG icon.
    return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
