"""CI smoke test: ``bk bench --quick`` runs the whole suite and writes the report and plots.
No assertion on any time: only that every section and plot was written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookkeeping.bench.report import SECTIONS

BK = Path(sys.executable).with_name("bk")


@pytest.mark.slow
@pytest.mark.timeout(1500)  # the subprocess's own limit decides
def test_bench_quick_on_sqlite_writes_report_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BK_BENCH_")}
    completed = subprocess.run(
        [str(BK), "bench", "--quick", "--backend", "sqlite", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,  # generous: a busy shared machine; CI normally needs ~2 minutes
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = (out / "report.md").read_text()
    positions = [report.index(heading + "\n") for heading in SECTIONS]
    assert positions == sorted(positions)
    assert "| `file_by_id` |" in report  # the call mix measured at least the warehouse
    assert "| driver cursor (JDBC path) |" in report
    assert "guid by file id" in report
    # Every path is in the build: none may be reported unavailable or failed.
    assert json.loads((out / "unavailable.json").read_text()) == {}
    assert "FAILED" not in report
    plots = (
        "call_mix_latency.png",
        "dump_vs_rows.png",
        "seed_queries.png",
        "selection_vs_size.png",
        "writes_vs_writers.png",
        "throughput_vs_clients.png",
    )
    for plot in plots:
        data = (out / plot).read_bytes()
        assert data.startswith(b"\x89PNG"), plot
        assert f"]({plot})" in report
    assert (out / "benchmark.json").stat().st_size > 0
