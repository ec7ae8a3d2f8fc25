"""Parked sessions: a client may disconnect and later resume with ``resume<ID>``."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Parked:
    session: Any
    ssl: bool
    expires: float


class SessionStore:
    """Thread-safe map of session id -> parked CatalogueSession, with a time-to-live."""

    def __init__(self, ttl: float = 600.0) -> None:
        self._ttl = ttl
        self._parked: dict[int, Parked] = {}
        self._lock = threading.Lock()

    def park(self, session: Any, *, ssl: bool) -> int:
        session_id = secrets.randbits(62) or 1
        with self._lock:
            self._expire()
            self._parked[session_id] = Parked(session, ssl, time.monotonic() + self._ttl)
        return session_id

    def resume(self, session_id: int, *, ssl: bool) -> Any | None:
        """The parked session (removed from the store), or None if unknown/expired or if
        it was parked over TLS and is resumed in clear (or the reverse)."""
        with self._lock:
            self._expire()
            parked = self._parked.pop(session_id, None)
        if parked is None or parked.ssl != ssl:
            if parked is not None:
                parked.session.close()
            return None
        return parked.session

    def close(self) -> None:
        with self._lock:
            parked, self._parked = list(self._parked.values()), {}
        for entry in parked:
            entry.session.close()

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [key for key, entry in self._parked.items() if entry.expires < now]:
            self._parked.pop(key).session.close()
