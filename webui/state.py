"""What the application holds for its lifetime: the engine and the objects built on it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from bookkeeping.interface import Bookkeeping, BookkeepingWriter
from webui.backends import open_reader, open_writer

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

EXTENSION_KEY = "bookkeeping"


@dataclass
class WebState:
    engine: Engine
    backend: str
    reader: Bookkeeping
    _writer: BookkeepingWriter | None = None
    _catalogue: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def writer(self) -> BookkeepingWriter:
        with self._lock:
            if self._writer is None:
                self._writer = open_writer(self.engine, self.backend)
            return self._writer

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue engine, built on first use (it makes sure "/" exists)."""
        from bookkeeping.amga_adapter.engine.catalogue import Catalogue

        with self._lock:
            if self._catalogue is None:
                self._catalogue = Catalogue(self.engine)
            return self._catalogue


def init_app(app: Flask, engine: Engine) -> None:
    backend = app.config["BOOKKEEPING_BACKEND"]
    app.extensions[EXTENSION_KEY] = WebState(engine, backend, open_reader(engine, backend))


def state() -> WebState:
    return current_app.extensions[EXTENSION_KEY]


def reader() -> Bookkeeping:
    return state().reader
