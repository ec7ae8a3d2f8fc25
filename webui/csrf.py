"""CSRF protection for the catalogue's forms: a random token kept in the signed session
cookie and echoed by every form; a POST whose token differs is refused.

Our own twenty lines rather than Flask-WTF: we need no form library otherwise, the session
cookie is already signed (so the token cannot be forged or swapped), and every form POST
goes through one ``check_csrf()`` call that is easy to audit. The cookie is SameSite=Lax
as a second line of defence.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from webui.errors import WebError

FIELD = "csrf_token"
_SESSION_KEY = "csrf"


def csrf_token() -> str:
    """The session's token (created on first use), for a hidden form field."""
    if _SESSION_KEY not in session:
        session[_SESSION_KEY] = secrets.token_urlsafe(32)
    return str(session[_SESSION_KEY])


def check_csrf() -> None:
    expected = session.get(_SESSION_KEY)
    sent = request.form.get(FIELD, "")
    # Bytes: compare_digest refuses str with non-ASCII characters (a forged token may have).
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise WebError(
            400,
            "the form has expired or did not come from this site; reload the page and retry",
            reason="csrf",
        )
