"""Every page has a JSON twin: one builder, registered twice.

``Pages.page(rule, template, ...)`` registers the builder's HTML view at ``rule`` and its
JSON view at ``/api/v1`` + ``rule``. The builder returns plain data (``webui.plain``); the
page renders it with its template and the twin answers it as is. A builder that wants an
error shown in place on its page (a query with a syntax error under the query box) returns
it under ``"error"`` as ``{status, message, details}``: the page renders with that status,
the twin answers the canonical error. The OpenAPI document is
generated from the same registrations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from webui.errors import error_response

API_PREFIX = "/api/v1"

Builder = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    type: str = "string"  # OpenAPI scalar type
    required: bool = False
    enum: tuple[str, ...] = ()
    where: str = "query"  # "query" or "path"


@dataclass(frozen=True)
class PageSpec:
    rule: str
    endpoint: str
    summary: str
    params: tuple[Param, ...]
    methods: tuple[str, ...]
    response: str  # the schema of the twin's answer (webui.openapi_schemas)
    errors: tuple[int, ...]  # statuses beyond 400, 404 and 503, e.g. 401 and 403


@dataclass
class Pages:
    """A pair of blueprints, ``name`` (HTML) and ``name`` under ``api`` (JSON)."""

    name: str
    url_prefix: str = ""
    specs: list[PageSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.html = Blueprint(self.name, __name__, url_prefix=self.url_prefix or None)
        self.api = Blueprint(self.name, __name__, url_prefix=self.url_prefix or None)

    def page(
        self,
        rule: str,
        template: str,
        summary: str,
        params: tuple[Param, ...] = (),
        methods: tuple[str, ...] = ("GET",),
        *,
        response: str,
        errors: tuple[int, ...] = (),
    ) -> Callable[[Builder], Builder]:
        def register(build: Builder) -> Builder:
            endpoint = build.__name__

            def html_view(**view_args: Any) -> tuple[str, int]:
                data = build(**view_args)
                status = data["error"]["status"] if data.get("error") else 200
                return render_template(template, **data), status

            def json_view(**view_args: Any) -> Response:
                data = build(**view_args)
                if data.get("error"):  # the page shows it in place; the twin answers it
                    error = data["error"]
                    return error_response(error["status"], error["message"], error["details"])
                return jsonify(data)

            self.html.add_url_rule(rule, endpoint, html_view, methods=list(methods))
            self.api.add_url_rule(rule, endpoint, json_view, methods=list(methods))
            self.specs.append(PageSpec(self.url_prefix + rule, endpoint, summary, params,
                                       methods, response, errors))  # fmt: skip
            return build

        return register
