"""Choosing a bookkeeping implementation by name: ``warehouse`` or ``catalogue``."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.interface import Bookkeeping, BookkeepingWriter
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter

BACKENDS = ("warehouse", "catalogue")


def _check(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown bookkeeping backend {backend!r}; use one of {BACKENDS}")


def open_bookkeeping(engine: Engine, backend: str) -> Bookkeeping:
    _check(backend)
    if backend == "warehouse":
        return WarehouseBookkeeping(engine)
    return CatalogueBookkeeping(engine)


def open_writer(engine: Engine, backend: str) -> BookkeepingWriter:
    _check(backend)
    if backend == "warehouse":
        return WarehouseWriter(engine)
    return CatalogueWriter(engine)


def open_writers(engine: Engine, choice: str) -> dict[str, BookkeepingWriter]:
    """``choice`` is a backend name or ``both``."""
    names = BACKENDS if choice == "both" else (choice,)
    return {name: open_writer(engine, name) for name in names}
