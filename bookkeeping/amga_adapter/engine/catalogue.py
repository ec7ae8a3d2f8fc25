"""The catalogue: one per process, thread-safe. Holds the engine and the schema cache
(directories, prepared statements, principals; kept correct by the schema version,
``schema_version.py``), authenticates users, administers users and groups, and opens
sessions. Constructing one creates nothing: the root directory comes with the schema
(``root_directory.py``)."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import schema_version
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import DirectoryCache
from bookkeeping.amga_adapter.engine.errors import (
    AuthenticationFailed,
    GroupExists,
    InvalidName,
    NoSuchGroup,
    NoSuchUser,
    PermissionDenied,
    UserExists,
)
from bookkeeping.amga_adapter.engine.passwords import (
    generate_password,
    hash_password,
    verify_password,
)
from bookkeeping.amga_adapter.engine.permissions import (
    ANONYMOUS,
    ROOT,
    Principal,
)
from bookkeeping.amga_adapter.engine.prepared import StatementCache
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.amga_adapter.engine.types import check_text
from bookkeeping.engines import write_transaction

__all__ = ["Catalogue", "CatalogueSession", "UserInfo"]

# None: cached schema never expires, the schema version keeps it correct. A number of
# seconds makes entries expire as well (only tests want it).
DEFAULT_CACHE_TTL: float | None = None


@dataclass(frozen=True)
class UserInfo:
    name: str
    dn: str | None
    groups: tuple[str, ...]
    has_password: bool


def _check_principal_name(kind: str, name: str) -> str:
    check_text(f"{kind} name", name)
    if not name or len(name) > 255 or ":" in name or name != name.strip():
        raise InvalidName(
            f"invalid {kind} name {name!r}: 1-255 characters, no ':' and no surrounding spaces"
        )
    return name


class Catalogue:
    """Process-wide entry point: ``Catalogue(engine).session(user)``."""

    def __init__(self, engine: sa.Engine, *, cache_ttl: float | None = DEFAULT_CACHE_TTL) -> None:
        self.engine = engine
        self.cache = DirectoryCache(cache_ttl)
        self.statements = StatementCache()  # prepared reads (prepared.py)
        # user -> (principal, loaded at): like a directory's ACL, a group membership
        # another process changes counts once the schema version says so; this process's
        # own changes at once. Opening a session then costs no round trip.
        self._principals: dict[str, tuple[Principal, float]] = {}
        self._principals_lock = threading.Lock()
        self._version: int | None = None  # the schema version the caches hold
        self._version_lock = threading.Lock()
        self.backend = (
            "mariadb" if engine.dialect.name in {"mysql", "mariadb"} else (engine.dialect.name)
        )

    # -- sessions and logins -------------------------------------------------------------

    def session(self, user: str) -> CatalogueSession:
        """A session for an already-authenticated ``user``."""
        return CatalogueSession(self, self.principal(user))

    def principal(self, user: str) -> Principal:
        with self._principals_lock:
            cached = self._principals.get(user)
        if cached is not None and self.cache.fresh(cached[1]):
            return cached[0]
        principal = self._load_principal(user)
        with self._principals_lock:
            self._principals[user] = (principal, time.monotonic())
        return principal

    def _forget_principals(self) -> None:
        with self._principals_lock:
            self._principals.clear()

    # -- the schema version (schema_version.py) -------------------------------------------

    def validate(self, connection: sa.Connection) -> bool:
        """Read the schema version; if it moved since the caches were filled, empty them.
        True when they were emptied."""
        return self.accept_version(schema_version.read(connection))

    def accept_version(self, version: int | None) -> bool:
        """The schema version as just read (None: no row yet, 0); empty the caches if it
        moved since they were filled. True when they were emptied."""
        version = version or 0
        with self._version_lock:
            # Never back: a read replica behind the primary answers an older version, and
            # the cache, filled at a newer one, holds nothing older than what it reads.
            if self._version is not None and version <= self._version:
                return False
            self._version = version
        self.forget_schema()
        return True

    def forget_schema(self) -> None:
        self.cache.invalidate()
        self.statements.clear()
        self._forget_principals()

    def schema_changed(self, connection: sa.Connection, *, own_transaction: bool) -> None:
        """Bump the version for a change this process made (its local caches are
        invalidated by the caller). When the bump is the only change since the caches were
        validated (``own_transaction``: it commits at once), they stay valid."""
        before = self._version
        after = schema_version.bump(connection)
        if own_transaction and before is not None and after == before + 1:
            with self._version_lock:
                if self._version == before:
                    self._version = after

    def _bump_schema(self) -> None:
        with write_transaction(self.engine) as connection:
            self.schema_changed(connection, own_transaction=True)

    def _load_principal(self, user: str) -> Principal:
        with self.engine.connect() as connection:
            user_id = connection.scalar(sa.select(st.users.c.id).where(st.users.c.name == user))
            if user_id is None:
                raise NoSuchUser(f"no such user: {user}")
            groups = connection.scalars(
                sa.select(st.groups.c.name)
                .join(st.group_members, st.group_members.c.group_id == st.groups.c.id)
                .where(st.group_members.c.user_id == user_id)
            ).all()
        return Principal(user, frozenset(groups))

    def authenticate(self, user: str, password: str | None) -> str:
        """The user's name if ``password`` is right; ``anonymous`` needs no password."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(st.users.c.name, st.users.c.password_hash).where(st.users.c.name == user)
            ).one_or_none()
        if row is not None and user == ANONYMOUS and not password:
            return row.name
        # An unknown user costs a hash too: the answer's timing does not reveal who exists.
        stored = row.password_hash if row is not None else _unknown_user_hash()
        if password is None or not verify_password(password, stored) or row is None:
            raise AuthenticationFailed(f"authentication failed for user {user!r}")
        return row.name

    def user_for_dn(self, dn: str) -> str:
        with self.engine.connect() as connection:
            name = connection.scalar(sa.select(st.users.c.name).where(st.users.c.dn == dn))
        if name is None:
            raise AuthenticationFailed(f"no user has the certificate subject {dn!r}")
        return name

    # -- user and group administration (root only) ---------------------------------------

    def add_user(
        self,
        acting: str,
        name: str,
        password: str | None = None,
        dn: str | None = None,
        groups: tuple[str, ...] | list[str] = (),
    ) -> None:
        _require_root(acting, "add users")
        _check_principal_name("user", name)
        if dn is not None:
            check_text("certificate subject", dn)
        with write_transaction(self.engine) as connection:
            if connection.scalar(sa.select(st.users.c.id).where(st.users.c.name == name)):
                raise UserExists(f"user {name!r} exists")
            if dn is not None and connection.scalar(
                sa.select(st.users.c.id).where(st.users.c.dn == dn)
            ):
                raise UserExists(f"another user has the certificate subject {dn!r}")
            group_ids = [_group_id(connection, group) for group in groups]
            hashed = hash_password(password) if password is not None else None
            user_id = connection.execute(
                st.users.insert().values(name=name, password_hash=hashed, dn=dn)
            ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
            for group_id in group_ids:
                connection.execute(
                    st.group_members.insert().values(group_id=group_id, user_id=user_id)
                )
        self._forget_principals()

    def set_password(self, acting: str, name: str, password: str | None) -> None:
        if acting != name:
            _require_root(acting, "change another user's password")
        hashed = hash_password(password) if password is not None else None
        with write_transaction(self.engine) as connection:
            updated = connection.execute(
                st.users.update().where(st.users.c.name == name).values(password_hash=hashed)
            ).rowcount
        if not updated:
            raise NoSuchUser(f"no such user: {name}")

    def list_users(self, acting: str) -> list[UserInfo]:
        _require_root(acting, "list users")
        with self.engine.connect() as connection:
            users = connection.execute(
                sa.select(
                    st.users.c.id, st.users.c.name, st.users.c.dn, st.users.c.password_hash
                ).order_by(st.users.c.name)
            ).all()
            memberships = connection.execute(
                sa.select(st.group_members.c.user_id, st.groups.c.name)
                .join(st.groups, st.groups.c.id == st.group_members.c.group_id)
                .order_by(st.groups.c.name)
            ).all()
        by_user: dict[int, list[str]] = {}
        for user_id, group in memberships:
            by_user.setdefault(user_id, []).append(group)
        return [
            UserInfo(u.name, u.dn, tuple(by_user.get(u.id, ())), u.password_hash is not None)
            for u in users
        ]

    def list_groups(self, acting: str) -> list[str]:
        _require_root(acting, "list groups")
        with self.engine.connect() as connection:
            return list(connection.scalars(sa.select(st.groups.c.name).order_by(st.groups.c.name)))

    def add_group(self, acting: str, name: str) -> None:
        _require_root(acting, "add groups")
        _check_principal_name("group", name)
        with write_transaction(self.engine) as connection:
            if connection.scalar(sa.select(st.groups.c.id).where(st.groups.c.name == name)):
                raise GroupExists(f"group {name!r} exists")
            connection.execute(st.groups.insert().values(name=name))

    def add_group_member(self, acting: str, group: str, user: str) -> None:
        _require_root(acting, "change group membership")
        with write_transaction(self.engine) as connection:
            group_id = _group_id(connection, group)
            user_id = connection.scalar(sa.select(st.users.c.id).where(st.users.c.name == user))
            if user_id is None:
                raise NoSuchUser(f"no such user: {user}")
            member = sa.select(st.group_members).where(
                st.group_members.c.group_id == group_id, st.group_members.c.user_id == user_id
            )
            if connection.execute(member).first() is None:
                connection.execute(
                    st.group_members.insert().values(group_id=group_id, user_id=user_id)
                )
                schema_version.bump(connection)
        self._forget_principals()


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password(generate_password())


def _require_root(acting: str, action: str) -> None:
    if acting != ROOT:
        raise PermissionDenied(f"permission denied: only root may {action}")


def _group_id(connection: sa.Connection, group: str) -> int:
    group_id = connection.scalar(sa.select(st.groups.c.id).where(st.groups.c.name == group))
    if group_id is None:
        raise NoSuchGroup(f"no such group: {group}")
    return int(group_id)
