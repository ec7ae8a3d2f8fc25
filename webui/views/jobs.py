"""``POST /api/v1/jobs``: the production writer endpoint.

A job report (XML or JSON, told apart by the Content-Type) is parsed, validated and
recorded by the configured ``BookkeepingWriter``. The answer says what was recorded, that
the report was already recorded, or every validation problem.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from bookkeeping.writer.errors import ReportConflict
from bookkeeping.writer.model import RecordStatus
from bookkeeping.writer.parsing import MAX_REPORT_BYTES, parse_json, parse_xml
from webui.errors import WebError
from webui.state import state
from webui.tokens import user_for_token

blueprint = Blueprint("jobs", __name__)

_PARSERS = {
    "application/xml": parse_xml,
    "text/xml": parse_xml,
    "application/json": parse_json,
}


def authenticated_user() -> str:
    """The user of the request's API token (``Authorization: Bearer <token>``)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WebError(401, "an API token is needed: Authorization: Bearer <token>")
    user = user_for_token(state().engine, token.strip())
    if user is None:
        raise WebError(401, "unknown API token (create one with bk token create USER)")
    return user


def unauthorised(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="bookkeeping"'
    return response


@blueprint.post("/jobs")
def record_job() -> Response:
    user = authenticated_user()
    parser = _PARSERS.get(request.mimetype)
    if parser is None:
        raise WebError(
            415,
            "send the job report as application/xml or application/json",
            content_type=request.mimetype,
        )
    body = request.get_data(cache=False)
    if len(body) > MAX_REPORT_BYTES:
        raise WebError(413, f"a job report may not exceed {MAX_REPORT_BYTES} bytes")
    report = parser(body, "request body")  # ValidationError -> 422 with every problem
    result = state().writer.record(report)
    answer = {
        "status": result.status.value,
        "job_id": result.job_id,
        "files": result.files,
        "dirac_job_id": report.dirac_job_id,
        "recorded_by": user,
    }
    if result.status is RecordStatus.FAILED:
        status = 409 if result.error_code == ReportConflict.code else 422
        raise WebError(status, result.error or "the report was not recorded",
                       code=result.error_code, dirac_job_id=report.dirac_job_id)  # fmt: skip
    response = jsonify(answer)
    response.status_code = 201 if result.status is RecordStatus.RECORDED else 200
    return response


blueprint.after_request(unauthorised)
