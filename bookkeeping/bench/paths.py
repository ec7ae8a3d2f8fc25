"""The access paths of the random call mix, each a ``Bookkeeping``, or the reason it is not
available in this build (reported as such, never replaced by another path).

The protocol path is ``RemoteCatalogueBookkeeping(client)``: the catalogue bookkeeping over
an ``MDClient`` of the benchmark's loopback server. The jdbc_compat path is
``JdbcBookkeeping(connection)``: the warehouse reader's SQL run through a jdbc_compat
connection on the catalogue bookkeeping's directories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import RemoteCatalogueBookkeeping
from bookkeeping.backends import open_bookkeeping
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping
from bookkeeping.jdbc_bookkeeping import JdbcBookkeeping


class PathNotAvailable(Exception):
    """This access path cannot be measured in this build; the message says why."""


@dataclass(frozen=True)
class AccessPath:
    name: str
    label: str


ACCESS_PATHS = (
    AccessPath("warehouse", "warehouse (direct SQL)"),
    AccessPath("catalogue", "catalogue in-process"),
    AccessPath("protocol", "catalogue over the AMGA protocol"),
    AccessPath("jdbc_compat", "jdbc_compat"),
)


def open_path(
    name: str,
    engine: Engine,
    *,
    client: Callable[[], Any] | None = None,
    jdbc: Callable[[], Any] | None = None,
) -> Bookkeeping:
    """``client``/``jdbc`` make the connection the remote paths need (only when used)."""
    try:
        if name in ("warehouse", "catalogue"):
            return open_bookkeeping(engine, name)
        if name == "protocol":
            if client is None:
                raise PathNotAvailable("no AMGA client for the protocol path")
            return RemoteCatalogueBookkeeping(client())
        if name == "jdbc_compat":
            if jdbc is None:
                raise PathNotAvailable("no jdbc_compat connection for the jdbc_compat path")
            return JdbcBookkeeping(jdbc())
        raise PathNotAvailable(f"unknown access path {name!r}")
    except (BookkeepingError, ImportError) as exc:
        raise PathNotAvailable(f"{type(exc).__name__}: {exc}") from exc
