"""Latency of a filtered dataset page (issue 23): HTTP GETs of ``/dataset`` with a run range
and a DQ flag, through ``bk web serve`` (gunicorn, 2 workers) on loopback, against
PostgreSQL, for each bookkeeping implementation (the warehouse; the catalogue with its
views, roottree and shards), at 10^4 and 10^5 files (``BK_BENCH_FILTER_SIZES``, comma
separated; 10^6 when its database has been populated, see below).

The databases are the kept ones of ``benchmarks/views_data.py`` (both implementations
filled by their writers); populate them ahead of a run:
``python -m benchmarks.views_data --sizes 10000,100000 --databases postgresql``.

The dataset is the largest real-data one (the one with runs), the filter its middle runs
and flag OK. Each case: 5 warm-up requests, then ``BK_BENCH_FILTER_REQUESTS`` (default 60)
timed one after another on one keep-alive connection; p50 and p95 go to
``benchmarks/results/webui-filters/`` (``report.md`` and ``latency.json``), and the mean
to pytest-benchmark. Target: p95 <= 300 ms.

Run: ``BK_TEST_POSTGRES_URL=... .venv/bin/pytest benchmarks/test_webui_filter_bench.py
--benchmark-only -n 0 -s``
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from benchmarks.views_data import populated_database
from bookkeeping.local_servers import free_port
from bookkeeping.scratch import server_url

SIZES = [int(n) for n in os.environ.get("BK_BENCH_FILTER_SIZES", "10000,100000").split(",")]
REQUESTS = int(os.environ.get("BK_BENCH_FILTER_REQUESTS", "60"))
WARM_UP = 5
TARGET_P95_MS = 300.0
BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent / "results" / "webui-filters"
RESULTS: dict[str, dict[str, Any]] = {}

pytestmark = pytest.mark.skipif(
    server_url("postgresql") is None, reason="needs BK_TEST_POSTGRES_URL"
)


@contextmanager
def _served(url: str, backend: str, tmp: Path) -> Iterator[str]:
    """``bk web serve`` (gunicorn) on a free loopback port until the block ends."""
    port = free_port()
    env = {**os.environ, "BK_DATABASE_URL": url, "BK_DATA_DIR": str(tmp)}
    log = tmp / f"serve-{backend}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "bk"), "web", "serve", "--port", str(port), "--workers", "2",
             "--backend", backend],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base}/api/v1/browse", timeout=30).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"bk web serve did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _largest_real_data(session: requests.Session, base: str) -> dict[str, Any]:
    """The real-data dataset (configuration LHCb: its files have runs) with most files."""
    best: tuple[int, dict[str, Any]] = (0, {})

    def walk(query: dict[str, Any], depth: int) -> None:
        nonlocal best
        values = session.get(f"{base}/api/v1/browse", params=query, timeout=60).json()["values"]
        for item in values:
            if depth == 5:
                best = max(best, (item["files"], item["query"]), key=lambda pair: pair[0])
            else:
                walk(item["query"], depth + 1)

    walk({"configname": "LHCb"}, 1)
    return best[1]


def _filter(session: requests.Session, base: str, dataset: dict[str, Any]) -> dict[str, Any]:
    """Its middle runs (a quarter to three quarters of its run span) and flag OK."""
    per_run = session.get(
        f"{base}/api/v1/dataset", params={**dataset, "per_page": 1, "sort": "run"}, timeout=60
    ).json()
    last = session.get(
        f"{base}/api/v1/dataset",
        params={**dataset, "per_page": 1, "sort": "run", "order": "desc"},
        timeout=60,
    ).json()
    low, high = per_run["files"][0]["run"], last["files"][0]["run"]
    span = high - low
    return {**dataset, "run_min": low + span // 4, "run_max": high - span // 4, "quality": "OK"}


@pytest.mark.parametrize("backend", ["warehouse", "catalogue"])
@pytest.mark.parametrize("files", SIZES)
def test_filtered_dataset_page(benchmark, files: int, backend: str, tmp_path: Path) -> None:
    with populated_database("postgresql", files) as url, _served(url, backend, tmp_path) as base:
        session = requests.Session()
        dataset = _largest_real_data(session, base)
        query = _filter(session, base, dataset)
        whole = session.get(f"{base}/api/v1/dataset", params=dataset, timeout=60).json()
        kept = session.get(f"{base}/api/v1/dataset", params=query, timeout=60).json()
        assert 0 < kept["totals"]["files"] < whole["totals"]["files"]  # the filter matters

        def get() -> int:
            response = session.get(f"{base}/dataset", params=query, timeout=60)
            assert response.status_code == 200
            return len(response.content)

        for _ in range(WARM_UP):
            get()
        timings: list[float] = []

        def timed() -> None:
            start = time.perf_counter()
            get()
            timings.append((time.perf_counter() - start) * 1000)

        benchmark.pedantic(timed, rounds=REQUESTS, iterations=1)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        result = {
            "files": files, "backend": backend, "requests": len(timings),
            "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "max_ms": round(timings[-1], 1),
            "dataset_files": whole["totals"]["files"], "kept_files": kept["totals"]["files"],
            "query": query, "load_average": os.getloadavg()[0],
        }  # fmt: skip
        benchmark.extra_info.update(result)
        RESULTS[f"{backend}-{files}"] = result
        _write()
        print(f"\n{backend} {files} files: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def _write() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = sorted(RESULTS.values(), key=lambda r: (r["backend"], r["files"]))
    (OUT / "latency.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# Filtered dataset page latency (issue 23)",
        "",
        "`GET /dataset?<path>&run_min=&run_max=&quality=OK` through `bk web serve` (gunicorn,",
        "2 workers) on loopback, PostgreSQL; the largest real-data dataset, its middle runs.",
        f"{REQUESTS} timed requests after {WARM_UP} warm-up ones, one after another.",
        f"Target: p95 <= {TARGET_P95_MS:.0f} ms.",
        "",
        "| implementation | files | dataset files | kept by the filter | p50 ms | p95 ms | max ms "
        "| load average |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['backend']} | {r['files']:,} | {r['dataset_files']:,} | {r['kept_files']:,} "
        f"| {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['load_average']:.1f} |"
        for r in rows
    ]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
