"""The storage elements the daemons use, opened by registry name and kept open."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from bookkeeping.storage.element import StorageElement


class ElementCache:
    """``cache(name)``: the registered storage element ``name``, opened once per process
    (``UnknownStorageElement`` when none is registered under it)."""

    def __init__(self, engine: Engine) -> None:
        from bookkeeping.storage.registry import StorageRegistry

        self.registry = StorageRegistry(engine)
        self._open: dict[str, StorageElement] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> StorageElement:
        with self._lock:
            element = self._open.get(name)
            if element is None:
                element = self._open[name] = self.registry.open(name)
            return element

    def close(self) -> None:
        with self._lock:
            for element in self._open.values():
                element.close()
            self._open.clear()


def element_opener(engine: Engine) -> Callable[[str], StorageElement]:
    return ElementCache(engine)
