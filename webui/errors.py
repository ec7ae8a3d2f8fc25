"""One error shape for every failure: ``{"status", "message", "details"}``.

API paths (``/api/...``) answer it as JSON; pages render the same three things in HTML.
Our own errors (``BookkeepingError``) keep their stable ``code`` in ``details.code``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from bookkeeping.errors import (
    BookkeepingError,
    ConfigError,
    DatabaseUnavailable,
    SchemaNotInitialised,
    ValidationError,
)
from bookkeeping.writer.errors import ReportConflict

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


# HTTP status of our errors, by class name, so that catalogue errors map without this
# module importing the catalogue engine.
_STATUS_BY_NAME = {
    "PermissionDenied": 403,
    "AuthenticationFailed": 401,
    "NoSuchDirectory": 404,
    "NoSuchEntry": 404,
    "NoSuchAttribute": 404,
    "NoSuchUser": 404,
    "EntryExists": 409,
    "DirectoryExists": 409,
    "AttributeExists": 409,
    "AttributeInUse": 409,
    "DirectoryNotEmpty": 409,
    "InvalidType": 422,
    "TypeMismatch": 422,
    "InvalidName": 422,
    "InvalidValue": 422,
    "InvalidPattern": 400,
    "ConstraintViolation": 409,
    "UnknownFile": 404,
    "UnknownReplica": 404,
    "ReplicaConflict": 409,
}
_STATUS_BY_CLASS: dict[type[BookkeepingError], int] = {
    ValidationError: 422,
    ReportConflict: 409,
    SchemaNotInitialised: 503,
    DatabaseUnavailable: 503,
    ConfigError: 500,
}


def status_of(exc: BookkeepingError) -> int:
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS_BY_NAME:
            return _STATUS_BY_NAME[cls.__name__]
        if cls in _STATUS_BY_CLASS:
            return _STATUS_BY_CLASS[cls]  # type: ignore[index]
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, details: dict[str, Any]) -> Response:
    if wants_json():
        response = jsonify({"status": status, "message": message, "details": details})
    else:
        html = render_template("error.html", status=status, message=message, details=details)
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def _plain_details(details: dict[str, Any]) -> dict[str, Any]:
    return {key: value if isinstance(value, int | float | str | bool | list | dict | None)
            else str(value) for key, value in details.items()}  # fmt: skip


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(WebError)
    def _web_error(exc: WebError) -> Response:
        return error_response(exc.status, exc.message, _plain_details(exc.details))

    @app.errorhandler(BookkeepingError)
    def _bookkeeping_error(exc: BookkeepingError) -> Response:
        details = {"code": exc.code, "error": type(exc).__name__, **_plain_details(exc.details)}
        return error_response(status_of(exc), exc.message, details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(status, exc.description or exc.name, {})
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> Response:
        log.error("database error: %s", exc.orig)
        return error_response(503, "the database cannot be used right now", {})

    @app.errorhandler(ProgrammingError)
    def _no_schema(exc: ProgrammingError) -> Response:
        log.error("database error: %s", exc.orig)
        message = "the database is not initialised (or outdated): run bk init"
        return error_response(503, message, {})
