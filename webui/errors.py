"""One error shape for every failure: ``{"status", "message", "details"}``.

API paths (``/api/...``) answer it as JSON; pages render the same three things in HTML.
Our own errors (``BookkeepingError``) keep their stable ``code`` in ``details.code``; their
HTTP status comes from the one table of ``bookkeeping.error_table`` (by the error's kind).
An outage answers 503 with ``Retry-After``. A driver error that reaches this far is
classified by its database code (``bookkeeping.db_errors``), never by its text.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from bookkeeping import db_errors
from bookkeeping.error_table import RETRY_AFTER_SECONDS, http_status_of
from bookkeeping.errors import BookkeepingError

log = logging.getLogger(__name__)


class WebError(Exception):
    """An error a view raises on purpose, with its HTTP status."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def bad_parameter(name: str, message: str, value: object = None) -> WebError:
    return WebError(400, f"parameter {name!r}: {message}", parameter=name, value=value)


def not_found(message: str, **details: Any) -> WebError:
    return WebError(404, message, **details)


def status_of(exc: BookkeepingError) -> int:
    return http_status_of(exc)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, details: dict[str, Any]) -> Response:
    if wants_json():
        response = jsonify({"status": status, "message": message, "details": details})
    else:
        html = render_template("error.html", status=status, message=message, details=details)
        response = Response(html, mimetype="text/html")
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _plain_details(details: dict[str, Any]) -> dict[str, Any]:
    return {key: value if isinstance(value, int | float | str | bool | list | dict | None)
            else str(value) for key, value in details.items()}  # fmt: skip


def bookkeeping_error_response(exc: BookkeepingError) -> Response:
    details = {"code": exc.code, "error": type(exc).__name__, **_plain_details(exc.details)}
    return error_response(status_of(exc), exc.message, details)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(WebError)
    def _web_error(exc: WebError) -> Response:
        return error_response(exc.status, exc.message, _plain_details(exc.details))

    @app.errorhandler(BookkeepingError)
    def _bookkeeping_error(exc: BookkeepingError) -> Response:
        if status_of(exc) >= 500 and status_of(exc) != 503:
            log.error("%s: %s", type(exc).__name__, exc.message, exc_info=exc)
        return bookkeeping_error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(status, exc.description or exc.name, {})
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(sa.exc.DBAPIError)
    def _database_error(exc: sa.exc.DBAPIError) -> Response:
        return bookkeeping_error_response(db_errors.translate(exc, "the request"))
