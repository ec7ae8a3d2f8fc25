"""Settings of the AMGA protocol server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8822  # 0: any free port (tests)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None  # when set, client certificates signed by it log users in
    name: str = "bk-amga"
    idle_timeout: float = 600.0  # seconds without a request before the server hangs up
    max_line: int = 1 << 20  # bytes in one request line
    release_sessions: bool = False  # hand out session<ID> after each command and hang up
    session_ttl: float = 600.0  # how long a parked session can be resumed
    # Result rows fetched per worker-thread hop: as many as the engine fetches per round trip
    # of a server-side cursor (engine.streams.STREAM_BATCH), so each hop is one fetch.
    stream_batch: int = 1000
    upload_batch: int = 1000  # put rows written per engine call
    shutdown_grace: float = 30.0  # seconds in-flight commands get on SIGTERM
    workers: int | None = None  # DB worker threads; default: the engine's pool size
