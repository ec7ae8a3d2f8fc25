"""What one benchmark run measures, read from ``BK_BENCH_*`` variables.

``bk bench`` sets these for the pytest run it starts; running the suite by hand with
``pytest benchmarks/suite`` uses the same defaults (the full study on a scratch SQLite).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

QUICK = "BK_BENCH_QUICK"
BACKEND = "BK_BENCH_BACKEND"
DATABASE_URL = "BK_BENCH_DATABASE_URL"
CALLS = "BK_BENCH_CALLS"
FILES = "BK_BENCH_FILES"
DUMP_SIZES = "BK_BENCH_DUMP_SIZES"
DUMP_BUDGET = "BK_BENCH_DUMP_BUDGET"
CLIENTS = "BK_BENCH_CLIENTS"
SELECTION_SIZES = "BK_BENCH_SELECTION_SIZES"
SELECTION_CACHE = "BK_BENCH_SELECTION_CACHE"

BACKENDS = ("sqlite", "postgresql", "mariadb")
# Back-ends on which benchmarks/views_data.py keeps populated databases between runs.
CACHED_BACKENDS = ("sqlite", "postgresql")

# The full run's call stream: the seed's 100,000 calls per access path. Through all four
# paths that is hours on the 2-core development machine (docs/benchmarks.md, "Duration");
# --calls N shortens it, and the report states the N it ran.
FULL_CALLS = 100_000


@dataclass(frozen=True)
class BenchSettings:
    quick: bool
    backend: str  # sqlite, postgresql or mariadb
    database_url: str | None  # None: a scratch database (admin URL from BK_TEST_*_URL)
    calls: int  # length of the random call stream, per access path
    files: int  # files in the bookkeeping the call mix and seed queries read
    dump_sizes: tuple[int, ...]  # rows of the dumped tables
    clients: tuple[int, ...]  # concurrent client processes
    seed: int = 20120401
    # A dump path is not measured at a size whose estimated time (rounds included, from its
    # time at the size before) exceeds this many seconds; the report says so.
    dump_budget: float = 600.0
    selection_files: tuple[int, ...] = ()  # () = the default sizes (selection_sizes)
    selection_cache: bool | None = None  # None = cached databases in full mode where kept

    @property
    def writer_counts(self) -> tuple[int, ...]:
        return (1, 4) if self.quick else (1, 4, 16)

    @property
    def write_files(self) -> int:
        """Files in the reports each writes benchmark records into an empty bookkeeping."""
        return 50 if self.quick else 5000

    @property
    def selection_cached(self) -> bool:
        """Whether the selection reads benchmarks/views_data.py's kept databases (populated
        through the writers once) instead of populating scratch databases in the run."""
        if self.selection_cache is not None:
            return self.selection_cache and self.backend in CACHED_BACKENDS
        return not self.quick and self.backend in CACHED_BACKENDS

    @property
    def selection_sizes(self) -> tuple[int, ...]:
        """Files in the bookkeepings the dataset selection is measured on. Populating 10^6
        files takes tens of minutes, so that size comes only from kept databases."""
        if self.selection_files:
            return self.selection_files
        if self.quick:
            return (200, 800)
        if self.selection_cached:
            return (1_000, 10_000, 100_000, 1_000_000)
        return (1_000, 10_000, 100_000)

    @property
    def client_calls(self) -> int:
        """Look-ups each concurrent client makes (the loop then stops by itself)."""
        return 10 if self.quick else 200


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _flag(text: str | None) -> bool | None:
    if text is None or not text.strip():
        return None
    return text.strip().lower() in {"1", "true", "yes"}


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> BenchSettings:
    env = os.environ if environ is None else environ
    quick = env.get(QUICK, "") in {"1", "true", "yes"}
    backend = env.get(BACKEND, "sqlite")
    if backend not in BACKENDS:
        raise ValueError(f"{BACKEND}={backend!r}: use one of {', '.join(BACKENDS)}")
    default_sizes = "1000,10000" if quick else "1000,10000,100000,1000000"
    return BenchSettings(
        quick=quick,
        backend=backend,
        database_url=env.get(DATABASE_URL) or None,
        calls=int(env.get(CALLS, "300" if quick else str(FULL_CALLS))),
        files=int(env.get(FILES, "600" if quick else "20000")),
        dump_sizes=_ints(env.get(DUMP_SIZES, default_sizes)),
        clients=_ints(env.get(CLIENTS, "1,4" if quick else "1,2,4,8,16,32,64")),
        dump_budget=float(env.get(DUMP_BUDGET, "600")),
        selection_files=_ints(env.get(SELECTION_SIZES, "")),
        selection_cache=_flag(env.get(SELECTION_CACHE)),
    )


def to_environment(settings: BenchSettings) -> dict[str, str]:
    """The variables that make a pytest run see ``settings``."""
    env = {
        QUICK: "1" if settings.quick else "0",
        BACKEND: settings.backend,
        CALLS: str(settings.calls),
        FILES: str(settings.files),
        DUMP_SIZES: ",".join(map(str, settings.dump_sizes)),
        DUMP_BUDGET: str(settings.dump_budget),
        CLIENTS: ",".join(map(str, settings.clients)),
        SELECTION_SIZES: ",".join(map(str, settings.selection_sizes)),
        SELECTION_CACHE: "1" if settings.selection_cached else "0",
    }
    if settings.database_url:
        env[DATABASE_URL] = settings.database_url
    return env
