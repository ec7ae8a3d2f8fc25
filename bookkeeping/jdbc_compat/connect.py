"""``connect(dsn)``: a database URL (in-process catalogue) or an ``amga://`` URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping import db_errors
from bookkeeping.errors import BookkeepingError, SchemaNotInitialised
from bookkeeping.jdbc_compat.connection import Connection
from bookkeeping.jdbc_compat.errors_map import to_dbapi
from bookkeeping.jdbc_compat.exceptions import InterfaceError
from bookkeeping.jdbc_compat.local import LocalBackend
from bookkeeping.jdbc_compat.views import View

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

DEFAULT_USER = "root"
CATALOGUE_TABLE = "cat_directories"  # the catalogue system table every database has


def connect(
    dsn: str | Catalogue,
    *,
    user: str = DEFAULT_USER,
    password: str | None = None,
    base_directory: str = "/",
    views: Mapping[str, View] | None = None,
) -> Connection:
    """Open a connection.

    ``dsn`` is a database URL (``sqlite:///path``, ``postgresql+psycopg://...``) holding a
    catalogue, a :class:`Catalogue` already open in this process, or
    ``amga://user:password@host:port/base-dir`` for a catalogue server. In-process, ``user``
    is trusted unless ``password`` is given (then it is checked); tables are the directories
    under ``base_directory`` (for ``amga://``, the URL's path). ``views``: read-only views
    by table name (``bookkeeping.jdbc_compat.views``), also settable as ``Connection.views``.
    """
    try:
        if isinstance(dsn, str) and dsn.split(":", 1)[0] in {"amga", "amgas"}:
            from bookkeeping.jdbc_compat.remote import connect_remote

            return Connection(connect_remote(dsn, password=password), views)
        return Connection(_local(dsn, user, password, base_directory), views)
    except BookkeepingError as exc:
        raise to_dbapi(exc) from exc
    except sa.exc.DBAPIError as exc:  # unreachable server, not a database file
        raise to_dbapi(db_errors.translate(exc, "connect")) from None


def _local(
    dsn: str | Catalogue, user: str, password: str | None, base_directory: str
) -> LocalBackend:
    # Imported here: the catalogue engine is only needed by in-process connections.
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue
    from bookkeeping.engines import create_engine

    if isinstance(dsn, Catalogue):
        catalogue, on_close = dsn, None
    elif isinstance(dsn, str):
        engine = create_engine(dsn)
        try:
            if not sa.inspect(engine).has_table(CATALOGUE_TABLE):
                raise SchemaNotInitialised(
                    f"the database has no catalogue ({CATALOGUE_TABLE} is missing): run bk init"
                )
        except BaseException:
            engine.dispose()
            raise
        catalogue, on_close = Catalogue(engine), engine.dispose
    else:
        raise InterfaceError(f"connect() needs a URL or a Catalogue, got {type(dsn).__name__}")
    if password is not None:
        user = catalogue.authenticate(user, password)
    return LocalBackend(catalogue.session(user), base_directory, on_close)
