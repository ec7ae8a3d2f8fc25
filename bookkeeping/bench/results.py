"""Reading a run's pytest-benchmark JSON into the figures the report and plots show."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookkeeping.bench.stats import Line, fit_line

# A skip reason starting with this is a size a path was not measured at to keep the run's
# time bounded (the dump budget): reported in its section, not as "not available".
LIMITED = "not measured at"
DURATIONS_JSON = "durations.json"  # written by the runner next to the benchmark JSON


@dataclass(frozen=True)
class Timing:
    mean: float  # seconds
    median: float
    rounds: int


@dataclass
class RunResults:
    machine: dict[str, Any]
    commit: dict[str, Any]
    started: str
    # call mix: path -> label, and path -> method -> {calls, mean_us, median_us, p95_us, errors}
    mix_labels: dict[str, str] = field(default_factory=dict)
    mix: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    mix_totals: dict[str, float] = field(default_factory=dict)  # seconds for the stream
    mix_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    # dump: path -> rows -> timing
    dump_labels: dict[str, str] = field(default_factory=dict)
    dump: dict[str, dict[int, Timing]] = field(default_factory=lambda: defaultdict(dict))
    # seed queries: query -> path -> timing
    seed_labels: dict[str, str] = field(default_factory=dict)
    seed: dict[str, dict[str, Timing]] = field(default_factory=lambda: defaultdict(dict))
    # dataset selection: path -> files in the bookkeeping -> timing; files -> extra info
    selection: dict[str, dict[int, Timing]] = field(default_factory=lambda: defaultdict(dict))
    selection_info: dict[int, dict[str, Any]] = field(default_factory=dict)
    selection_statements: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # writes: (implementation, writers) -> extra info (reports_per_s, files_per_s, ...)
    writes: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    # concurrency: target -> clients -> extra info (calls_per_s, p50_ms, p95_ms, p99_ms)
    concurrency: dict[str, dict[int, dict[str, float]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    unavailable: dict[str, str] = field(default_factory=dict)  # test id -> reason
    limited: dict[str, str] = field(default_factory=dict)  # test id -> reason (LIMITED)
    # durations.json of the runner: total_s, per-module sections, slow fixture set-ups
    durations: dict[str, Any] = field(default_factory=dict)

    def dump_slopes(self) -> dict[str, Line]:
        """Least-squares seconds-per-row line of each path with two sizes or more."""
        slopes = {}
        for path, by_rows in self.dump.items():
            if len(by_rows) >= 2:
                rows = sorted(by_rows)
                slopes[path] = fit_line(rows, [by_rows[n].mean for n in rows])
        return slopes


def _timing(stats: dict[str, Any]) -> Timing:
    return Timing(stats["mean"], stats["median"], stats["rounds"])


def load(
    json_path: Path, unavailable_path: Path | None = None, durations_path: Path | None = None
) -> RunResults:
    data = json.loads(json_path.read_text())
    results = RunResults(data["machine_info"], data.get("commit_info", {}), data["datetime"])
    for bench in data["benchmarks"]:
        info, stats = bench["extra_info"], bench["stats"]
        kind = info.get("kind")
        if kind == "call_mix":
            results.mix_labels[info["path"]] = info["label"]
            results.mix[info["path"]] = info["methods"]
            results.mix_totals[info["path"]] = stats["mean"]
            results.mix_errors[info["path"]] = info.get("error_examples", {})
        elif kind == "dump":
            results.dump_labels[info["path"]] = info["label"]
            results.dump[info["path"]][int(info["rows"])] = _timing(stats)
        elif kind == "seed_query":
            results.seed_labels[info["path"]] = info["label"]
            results.seed[info["query"]][info["path"]] = _timing(stats)
        elif kind == "selection":
            files = int(info["files"])
            results.selection[info["path"]][files] = _timing(stats)
            results.selection_info.setdefault(files, info)
            if "statements" in info:
                results.selection_statements[info["path"]][files] = int(info["statements"])
        elif kind == "writes":
            results.writes[(info["implementation"], int(info["writers"]))] = info
        elif kind == "concurrency":
            results.concurrency[info["target"]][int(info["clients"])] = info
    if unavailable_path is not None and unavailable_path.exists():
        for test, reason in json.loads(unavailable_path.read_text()).items():
            target = results.limited if reason.startswith(LIMITED) else results.unavailable
            target[test] = reason
    durations_path = durations_path or json_path.with_name(DURATIONS_JSON)
    if durations_path.exists():
        results.durations = json.loads(durations_path.read_text())
    return results
