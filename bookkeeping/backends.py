"""Choosing a bookkeeping implementation by name: ``warehouse`` or ``catalogue``.

The catalogue implementation lives in ``bookkeeping.amga_adapter.bookkeeping`` and must
provide ``CatalogueBookkeeping(engine)`` and ``CatalogueWriter(engine)``; until that module
exists, asking for it raises ``BackendNotAvailable``.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from sqlalchemy.engine import Engine

from bookkeeping.interface import Bookkeeping, BookkeepingWriter
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.errors import BackendNotAvailable

BACKENDS = ("warehouse", "catalogue")
CATALOGUE_MODULE = "bookkeeping.amga_adapter.bookkeeping"


def _catalogue(name: str) -> Any:
    if importlib.util.find_spec(CATALOGUE_MODULE) is None:
        raise BackendNotAvailable(
            "the catalogue bookkeeping is not available yet in this build "
            f"({CATALOGUE_MODULE} is missing); use --backend warehouse"
        )
    return getattr(importlib.import_module(CATALOGUE_MODULE), name)


def _check(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown bookkeeping backend {backend!r}; use one of {BACKENDS}")


def open_bookkeeping(engine: Engine, backend: str) -> Bookkeeping:
    _check(backend)
    if backend == "warehouse":
        return WarehouseBookkeeping(engine)
    return _catalogue("CatalogueBookkeeping")(engine)


def open_writer(engine: Engine, backend: str) -> BookkeepingWriter:
    _check(backend)
    if backend == "warehouse":
        return WarehouseWriter(engine)
    return _catalogue("CatalogueWriter")(engine)


def open_writers(engine: Engine, choice: str) -> dict[str, BookkeepingWriter]:
    """``choice`` is a backend name or ``both``."""
    names = BACKENDS if choice == "both" else (choice,)
    return {name: open_writer(engine, name) for name in names}
