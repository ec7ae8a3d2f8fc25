"""Who is browsing the catalogue, and a catalogue session for them.

The user comes from the signed session cookie (after logging in), or from an API token on
``/api`` paths; nobody logged in browses as AMGA's ``anonymous`` user. What each user may
see or change is decided by the catalogue engine alone: the web UI only passes the user on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import request, session

from webui.errors import WebError
from webui.state import state
from webui.tokens import user_for_token

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession

ANONYMOUS = "anonymous"
USER_KEY = "user"


def current_user() -> str:
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        scheme, _, token = request.headers["Authorization"].partition(" ")
        user = user_for_token(state().engine, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise WebError(401, "unknown API token")
        return user
    return str(session.get(USER_KEY, ANONYMOUS))


def logged_in() -> bool:
    return USER_KEY in session


@contextmanager
def catalogue_session() -> Iterator[CatalogueSession]:
    from bookkeeping.amga_adapter.engine.errors import NoSuchUser

    user = current_user()
    try:
        opened = state().catalogue.session(user)
    except NoSuchUser:
        if user == ANONYMOUS:
            raise WebError(401, "log in to browse the catalogue") from None
        session.pop(USER_KEY, None)  # the user was removed since logging in
        raise WebError(401, "your user no longer exists; log in again") from None
    try:
        yield opened
    finally:
        opened.close()
