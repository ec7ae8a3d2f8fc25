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


def _mix(path: str, seconds: float, median_us: float) -> dict[str, object]:
    methods = {
        "file_by_id": {
            "calls": 10,
            "mean_us": median_us,
            "median_us": median_us,
            "p95_us": median_us,
            "errors": 0,
        }
    }
    info = {"kind": "call_mix", "path": path, "label": path, "methods": methods}
    return _bench(info, seconds)


def _selection(path: str, files: int, seconds: float) -> dict[str, object]:
    info = {
        "kind": "selection",
        "path": path,
        "files": files,
        "statements": 5,
        "populated": "kept database `bk_bench_views_v1_x`",
        "ready_s": 12.0,
    }
    return _bench(info, seconds)


def test_headline_figures_come_first_and_are_ratios_of_this_run(tmp_path: Path) -> None:
    runs = [_mix("warehouse", 10.0, 100.0), _mix("protocol", 45.0, 300.0)]
    runs += [_dump("driver", n, 1e-6 * n) for n in (1_000, 10_000)]
    runs += [_dump("catalogue", n, 3e-6 * n) for n in (1_000, 10_000)]
    runs += [_selection("warehouse join", 1_000_000, 1.2)]
    runs += [_selection("catalogue roottree + shards", 1_000_000, 0.03)]
    writes = {
        "kind": "writes",
        "implementation": "catalogue",
        "writers": 4,
        "files_per_s": 300.0,
        "reports_per_s": 280.0,
        "reports": 10,
        "files": 12,
    }
    runs += [_bench(writes, 1.0)]
    results = load(_write_run(tmp_path, runs))
    text = render(results, from_environment({}), tmp_path)
    headline = text[text.index("## Headline figures") : text.index("## Run")]
    assert "protocol **4.5×**" in headline
    assert "catalogue engine's is steeper than the driver cursor's (3.0×)" in headline
    assert "1,000,000 files: 30.0 ms vs 1,200.0 ms (views **40.0×** faster)" in headline
    assert "4 writers: catalogue 300" in headline
    assert "**Concurrency**: not measured in this run." in headline
    assert "(5)" in text and "kept database `bk_bench_views_v1_x`; ready in 12 s" in text


def test_sizes_left_out_by_the_budget_are_in_the_dump_section_not_unavailable(
    tmp_path: Path,
) -> None:
    reasons = tmp_path / "unavailable.json"
    test = "benchmarks/suite/test_table_dump.py::test_table_dump[protocol-1000000]"
    reasons.write_text(json.dumps({test: "not measured at 1,000,000 rows and beyond: slow"}))
    runs = [_dump("protocol", n, 8e-6 * n) for n in (1_000, 10_000)]
    results = load(_write_run(tmp_path, runs), reasons)
    text = render(results, from_environment({}), tmp_path)
    dump = text[text.index("## Table dump") : text.index("## The seed's two queries")]
    assert "- protocol: not measured at 1,000,000 rows and beyond: slow." in dump
    assert text.endswith("## Not available in this run\n\nEvery benchmark ran.\n")


def test_time_taken_per_section_is_reported(tmp_path: Path) -> None:
    (tmp_path / "durations.json").write_text(
        json.dumps(
            {
                "total_s": 5400.0,
                "sections": {"test_call_mix.py": {"setup": 100.0, "call": 2900.0}},
                "setups": {"unavailable": 100.0, "populated[1000000]": 30.0},
            }
        )
    )
    results = load(_write_run(tmp_path, []))
    text = render(results, from_environment({}), tmp_path)
    assert "Time taken: **90.0 min**" in text
    assert "| random call mix | 50.0 min | 1.7 min |" in text
    assert "getting a selection bookkeeping ready (1000000 files): 30 s" in text


def test_the_run_line_gives_the_start_and_commit_the_runner_recorded(tmp_path: Path) -> None:
    path = _write_run(tmp_path, [])  # its JSON: written at 00:00 with commit 0123456789ab
    older = render(load(path), from_environment({}), tmp_path)
    assert "- results written 2026-11-22T00:00:00; commit then `0123456789ab`" in older
    (tmp_path / "durations.json").write_text(
        json.dumps(
            {
                "total_s": 60.0,
                "began_at": "2026-11-21T22:00:00+00:00",
                "commit": {"id": "fedcba9876543210", "dirty": True},
            }
        )
    )
    text = render(load(path), from_environment({}), tmp_path)
    assert (
        "- started 2026-11-21T22:00:00+00:00; commit `fedcba987654` (with uncommitted changes)"
        in text
    )
    assert "0123456789ab" not in text
