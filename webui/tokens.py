"""API tokens: created for a catalogue user (``bk token create USER``), shown once, stored
as a SHA-256 digest, presented as ``Authorization: Bearer <token>``."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.api_tokens import api_tokens
from bookkeeping.engines import write_transaction
from bookkeeping.errors import ValidationError

TOKEN_PREFIX = "bk_"
MAX_TOKEN_LENGTH = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, user: str) -> str:
    """A new token for ``user`` (a catalogue user); the only time it is seen in clear."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction(engine) as connection:
        user_id = connection.scalar(sa.select(users.c.id).where(users.c.name == user))
        if user_id is None:
            raise ValidationError(f"no such user: {user!r} (create it in the catalogue first)")
        connection.execute(api_tokens.insert().values(user_id=user_id, token_sha256=_digest(token)))
    return token


def revoke_tokens(engine: Engine, user: str) -> int:
    """Remove every token of ``user``; the number removed."""
    with write_transaction(engine) as connection:
        owner = sa.select(users.c.id).where(users.c.name == user).scalar_subquery()
        return connection.execute(api_tokens.delete().where(api_tokens.c.user_id == owner)).rowcount


def user_for_token(engine: Engine, token: str) -> str | None:
    """The user a token belongs to, or None for an unknown or malformed token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    query = (
        sa.select(users.c.name)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_sha256 == _digest(token))
    )
    with engine.connect() as connection:
        return connection.scalar(query)
