"""The report from a run's JSON: fixed sections, figures where measured, reasons where not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bookkeeping.bench.plots import write_plots
from bookkeeping.bench.report import SECTIONS, render
from bookkeeping.bench.results import load
from bookkeeping.bench.settings import from_environment


def _bench(extra: dict[str, object], mean: float) -> dict[str, object]:
    return {"extra_info": extra, "stats": {"mean": mean, "median": mean, "rounds": 3}}


def _write_run(tmp_path: Path, benchmarks: list[dict[str, object]]) -> Path:
    path = tmp_path / "benchmark.json"
    document = {
        "machine_info": {"python_version": "3.11", "cpu": {"count": 2}},
        "commit_info": {"id": "0123456789abcdef", "dirty": False},
        "datetime": "2026-11-22T00:00:00",
        "benchmarks": benchmarks,
    }
    path.write_text(json.dumps(document))
    return path


def _dump(path: str, rows: int, seconds: float) -> dict[str, object]:
    return _bench({"kind": "dump", "path": path, "label": path, "rows": rows}, seconds)


def test_empty_run_has_every_section_and_says_nothing_was_measured(tmp_path: Path) -> None:
    results = load(_write_run(tmp_path, []))
    text = render(results, from_environment({}), tmp_path)
    assert [line for line in text.splitlines() if line.startswith("## ")] == list(SECTIONS)
    assert "No access path was measured" in text
    assert "## Dataset selection\n\nNot measured in this run" in text


def test_dump_slopes_are_fitted_in_microseconds_per_row(tmp_path: Path) -> None:
    runs = [_dump("driver", n, 0.001 + 2e-6 * n) for n in (1_000, 10_000, 100_000)]
    runs += [_dump("protocol", n, 0.01 + 8e-6 * n) for n in (1_000, 10_000, 100_000)]
    results = load(_write_run(tmp_path, runs))
    slopes = results.dump_slopes()
    assert slopes["driver"].slope == pytest.approx(2e-6)
    text = render(results, from_environment({}), tmp_path)
    assert "| driver | 3 | 21 | 201 | 2.00 |" in text
    assert "protocol 4.0×" in text


def test_unavailable_paths_are_listed_with_their_reason(tmp_path: Path) -> None:
    reasons = tmp_path / "unavailable.json"
    reasons.write_text(json.dumps({"test_call_mix[protocol]": "not available: no client"}))
    results = load(_write_run(tmp_path, []), reasons)
    text = render(results, from_environment({}), tmp_path)
    assert "- `test_call_mix[protocol]`: not available: no client" in text


def test_plots_are_png_and_linked_only_when_written(tmp_path: Path) -> None:
    runs = [_dump("driver", n, 2e-6 * n) for n in (1_000, 10_000)]
    results = load(_write_run(tmp_path, runs))
    written = write_plots(results, tmp_path)
    assert [path.name for path in written] == ["dump_vs_rows.png"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    text = render(results, from_environment({}), tmp_path)
    assert "](dump_vs_rows.png)" in text
    assert "call_mix_latency.png" not in text
