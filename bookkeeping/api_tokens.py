"""The table of API tokens for the production writer endpoint (the web UI issues and checks
them, ``webui/tokens.py``; the table is part of the static schema, so it lives in the core).

Only a SHA-256 digest of each token is stored: tokens are 256-bit random strings, so a
fast hash is enough (no password KDF needed) and a leaked table gives no usable token.
A user's tokens go when the user goes (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, func

from bookkeeping.amga_adapter.engine import system_tables  # noqa: F401  (cat_users, referenced below)
from bookkeeping.metadata import metadata

api_tokens = Table(
    "webui_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("cat_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
