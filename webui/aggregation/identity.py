"""Who is asking: an API token (``Authorization: Bearer ...``) or the session's user.

Unlike the catalogue pages, ``/graphql`` takes a token on any path, since GraphQL clients
(``gql``, scripts) send one; nobody signed in is AMGA's ``anonymous``.
"""

from __future__ import annotations

from flask import request, session

from webui.catalogue_access import ANONYMOUS, USER_KEY
from webui.errors import WebError
from webui.state import state
from webui.tokens import user_for_token


def requester() -> tuple[str, bool]:
    """(user name, signed in)."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        user = user_for_token(state().engine, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise WebError(401, "unknown API token")
        return user, True
    user = session.get(USER_KEY)
    return (str(user), True) if user else (ANONYMOUS, False)


def rights(user: str, path: str) -> str | None:
    """The user's rwx on a catalogue path, as the engine grants it; None when the user or
    the path is unknown or unreadable to them."""
    from bookkeeping.errors import BookkeepingError

    try:
        session_ = state().catalogue.session(user)
    except BookkeepingError:
        return None
    try:
        return session_.rights(path)
    except BookkeepingError:
        return None
    finally:
        session_.close()
