"""The access paths of the random call mix, each a ``Bookkeeping``, or the reason it is not
available in this build (reported as such, never replaced by another path).

A path lights up by itself when its code lands: the protocol path needs
``bookkeeping.amga_adapter.bookkeeping.RemoteCatalogueBookkeeping(client)`` (the catalogue
bookkeeping over an ``MDClient``). The jdbc_compat path is ``JdbcBookkeeping(connection)``:
the warehouse reader's SQL run through a jdbc_compat connection on the catalogue
bookkeeping's directories.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bookkeeping.backends import open_bookkeeping
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping
from bookkeeping.jdbc_compat.bookkeeping import JdbcBookkeeping


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

_HOOKS = {
    "protocol": ("bookkeeping.amga_adapter.bookkeeping", "RemoteCatalogueBookkeeping"),
}


def _hook(path: str) -> Callable[[Any], Bookkeeping]:
    module_name, factory = _HOOKS[path]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PathNotAvailable(
            f"{module_name}.{factory} is not in this build ({type(exc).__name__}: {exc})"
        ) from exc
    if not hasattr(module, factory):
        raise PathNotAvailable(
            f"no Bookkeeping implementation for this path yet ({module_name} has no {factory})"
        )
    return getattr(module, factory)  # type: ignore[no-any-return]


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
        if name == "jdbc_compat":
            if jdbc is None:
                raise PathNotAvailable("no jdbc_compat connection for the jdbc_compat path")
            return JdbcBookkeeping(jdbc())
        factory = _hook(name)
        if client is None:
            raise PathNotAvailable(f"no connection for the {name} path")
        return factory(client())
    except (BookkeepingError, ImportError) as exc:
        raise PathNotAvailable(f"{type(exc).__name__}: {exc}") from exc
