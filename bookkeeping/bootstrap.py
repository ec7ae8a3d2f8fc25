"""``bk init``: bring the schema to head and make sure the ``root`` user exists."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping import migrate
from bookkeeping.amga_adapter.engine.passwords import generate_password, hash_password
from bookkeeping.amga_adapter.engine.root_directory import ensure_root_directory
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import write_transaction

ROOT_USER = "root"
ANONYMOUS_USER = "anonymous"


@dataclass(frozen=True)
class InitResult:
    revision_before: str | None
    revision_after: str
    root_created: bool
    anonymous_created: bool
    # Set only when the root password was generated here; shown to the operator once.
    generated_root_password: str | None


def initialise(engine: Engine, root_password: str | None = None) -> InitResult:
    """Idempotent: a second call upgrades nothing and creates no user."""
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, "head")
    after = migrate.current_revision(engine)
    assert after is not None
    generated: str | None = None
    with write_transaction(engine) as connection:
        existing = set(
            connection.scalars(
                sa.select(users.c.name).where(users.c.name.in_([ROOT_USER, ANONYMOUS_USER]))
            )
        )
        root_created = ROOT_USER not in existing
        if root_created:
            if root_password is None:
                generated = root_password = generate_password()
            connection.execute(
                users.insert().values(name=ROOT_USER, password_hash=hash_password(root_password))
            )
        anonymous_created = ANONYMOUS_USER not in existing
        if anonymous_created:
            connection.execute(users.insert().values(name=ANONYMOUS_USER, password_hash=None))
    ensure_root_directory(engine)  # the catalogue's "/": made here, never by a read
    return InitResult(before, after, root_created, anonymous_created, generated)
