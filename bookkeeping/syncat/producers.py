"""SE-side producers: announce files appearing and disappearing behind the catalogue's back.

- ``PosixWatcher``: inotify on a posix SE's folder (``watchdog``). Deletions are announced
  (``file_lost``) every ``window`` seconds (0.5), those of that moment in one message;
  a new file (``file_appeared``) only once it has stayed ``grace`` seconds, since a file is
  written before its copy is registered (bytes before rows) and would look dark meanwhile.
  The element's temporary names (``.<name>.bk-part-<hex>``) are ignored.
- ``Lister``: for xrootd and tape, which have no notifications: the SE's listing every
  ``period`` seconds, compared with the one before (the first is the baseline); the bytes
  it holds go out as ``space_changed`` when they changed.

Messages go straight to the broker (the SE side has no outbox). What could not be published
stays pending and is sent at the next step.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from bookkeeping.chunking import chunked
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.posix import PARTIAL_MARKER
from bookkeeping.syncat.messages import MAX_FILES, Envelope, MessageType
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.transport.base import Transport

log = logging.getLogger(__name__)


class _Announcer:
    """Pending files by type, sent as few messages as the size limit allows."""

    def __init__(
        self, se: str, signer: Signer, transport: Transport, routing: Routing, requester: str
    ) -> None:
        self.se = se
        self.signer = signer
        self.transport = transport
        self.routing = routing
        self.requester = requester
        self.pending: dict[MessageType, dict[str, dict[str, Any]]] = {}

    def add(self, kind: MessageType, items: Iterable[dict[str, Any]]) -> None:
        bucket = self.pending.setdefault(kind, {})
        for item in items:
            bucket[item["path"]] = item
        opposite = {
            MessageType.FILE_LOST: MessageType.FILE_APPEARED,
            MessageType.FILE_APPEARED: MessageType.FILE_LOST,
        }.get(kind)
        if opposite in self.pending:  # the last word on a path wins
            for item in bucket.values():
                self.pending[opposite].pop(item["path"], None)

    def space(self, used: int, capacity: int | None) -> None:
        envelope = Envelope(
            type=MessageType.SPACE_CHANGED,
            sender=self.signer.endpoint,
            requester=self.requester,
            se=self.se,
            extra={"used": used, "capacity": capacity},
        )
        self.transport.publish(self.routing.catalogue, [self.signer.sign(envelope).to_bytes()])

    def flush(self) -> int:
        sent = 0
        for kind in list(self.pending):
            items = list(self.pending[kind].values())
            for chunk in chunked(items, MAX_FILES):
                envelope = Envelope(
                    type=kind,
                    sender=self.signer.endpoint,
                    requester=self.requester,
                    se=self.se,
                    files=tuple(chunk),
                )
                queue_name = self.routing.queue_for(kind, self.se)
                self.transport.publish(queue_name, [self.signer.sign(envelope).to_bytes()])
                for item in chunk:
                    self.pending[kind].pop(item["path"], None)
                sent += len(chunk)
            del self.pending[kind]
        return sent


class _Events(FileSystemEventHandler):
    def __init__(self, root: Path, sink: queue.SimpleQueue[tuple[str, str, float]]) -> None:
        self.root = root
        self.sink = sink

    def _path(self, raw: str | bytes) -> str | None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        local = Path(text)
        if PARTIAL_MARKER in local.name:
            return None
        try:
            return "/" + local.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _put(self, what: str, raw: str | bytes) -> None:
        path = self._path(raw)
        if path is not None:
            self.sink.put((what, path, time.monotonic()))

    def on_deleted(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._put("lost", event.src_path)

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._put("appeared", event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._put("lost", event.src_path)
            self._put("appeared", event.dest_path)


class PosixWatcher:
    def __init__(
        self,
        root: Path,
        se: str,
        signer: Signer,
        transport: Transport,
        routing: Routing,
        *,
        requester: str = "root",
        grace: float = 60.0,
        window: float = 0.5,
    ) -> None:
        """``window``: deletions are gathered this long into one message (fewer, larger
        messages keep the receiver ahead of a burst; it bounds the latency it adds)."""
        self.root = root.resolve()
        self.grace = grace
        self.window = window
        self._flushed = 0.0
        self.announcer = _Announcer(se, signer, transport, routing, requester)
        self._events: queue.SimpleQueue[tuple[str, str, float]] = queue.SimpleQueue()
        self._young: dict[str, float] = {}  # appeared, waiting for the grace period
        self._observer = Observer()
        self._observer.schedule(_Events(self.root, self._events), str(self.root), recursive=True)
        self._observer.start()

    def step(self) -> bool:
        """Announce what happened since the last step; whether anything was sent."""
        if time.monotonic() - self._flushed < self.window:
            return False
        self._flushed = time.monotonic()
        lost: list[dict[str, Any]] = []
        while True:
            try:
                what, path, seen = self._events.get_nowait()
            except queue.Empty:
                break
            if what == "lost":
                if self._young.pop(path, None) is None:  # came and went unseen: nothing
                    lost.append({"path": path})
            else:
                self._young[path] = seen
        if lost:
            self.announcer.add(MessageType.FILE_LOST, lost)
        now = time.monotonic()
        ripe = [path for path, seen in self._young.items() if now - seen >= self.grace]
        if ripe:
            items = []
            for path in ripe:
                del self._young[path]
                local = self.root / path.lstrip("/")
                if local.is_file():
                    items.append({"path": path, "size": local.stat().st_size})
            self.announcer.add(MessageType.FILE_APPEARED, items)
        return self.announcer.flush() > 0

    def close(self) -> None:
        self._observer.stop()
        self._observer.join(5)


class Lister:
    def __init__(
        self,
        element: StorageElement,
        signer: Signer,
        transport: Transport,
        routing: Routing,
        *,
        requester: str = "root",
        period: float = 60.0,
    ) -> None:
        self.element = element
        self.period = period
        self.announcer = _Announcer(element.name, signer, transport, routing, requester)
        self._previous: dict[str, int] | None = None
        self._used: int | None = None
        self._next = 0.0

    def step(self) -> bool:
        if time.monotonic() >= self._next:
            self._next = time.monotonic() + self.period
            listing = {stat.path: stat.size for stat in self.element.list("/")}
            used = sum(listing.values())
            if used != self._used:  # space_changed: the bytes the listing holds
                self._used = used
                self.announcer.space(used, self.element.usage().capacity)
            if self._previous is not None:
                gone = self._previous.keys() - listing.keys()
                new = listing.keys() - self._previous.keys()
                self.announcer.add(MessageType.FILE_LOST, [{"path": p} for p in sorted(gone)])
                self.announcer.add(
                    MessageType.FILE_APPEARED,
                    [{"path": p, "size": listing[p]} for p in sorted(new)],
                )
            self._previous = listing
        return self.announcer.flush() > 0

    def close(self) -> None:
        self.element.close()
