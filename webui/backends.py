"""The one place that maps a backend name to a ``Bookkeeping`` implementation.

Everything in the web UI reads through the ``Bookkeeping`` protocol; which object serves
it is configuration (``BOOKKEEPING_BACKEND``); the names come from ``bookkeeping.backends``.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bookkeeping import backends as _backends
from bookkeeping.interface import Bookkeeping, BookkeepingWriter

BACKENDS = _backends.BACKENDS


def open_reader(engine: Engine, name: str) -> Bookkeeping:
    return _backends.open_bookkeeping(engine, name)


def open_writer(engine: Engine, name: str) -> BookkeepingWriter:
    return _backends.open_writer(engine, name)
