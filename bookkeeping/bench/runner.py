"""Running the suite: pytest-benchmark over ``benchmarks/suite`` in this process, with a
rich progress bar per test, then the report and plots from the JSON it wrote.

Tests skipped as "not available" are collected with their reasons (``unavailable.json``), so
the report names every path it could not measure and why.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.utils import get_commit_info
from rich.console import Console
from rich.progress import Progress

from bookkeeping.bench.errors import BenchRunFailed
from bookkeeping.bench.results import DURATIONS_JSON
from bookkeeping.bench.settings import BenchSettings, to_environment
from bookkeeping.progress import progress_bar

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"
RESULTS_JSON = "benchmark.json"
UNAVAILABLE_JSON = "unavailable.json"
# Fixture set-ups (populations, table builds) at least this long are named in the report.
SLOW_SETUP = 2.0
QUICK_TEST_TIMEOUT = 600  # seconds a benchmark (set-up included) may take in quick mode
FULL_TEST_TIMEOUT = 6 * 3600


@dataclass(eq=False)  # hashable by identity: pluggy keeps fixture hook plugins in sets
class _Plugin:
    """Advances the progress bar, keeps the reasons of skipped tests and times each
    module's tests (set-up included) and each slow fixture set-up, so the report says
    where a run's time went (docs/benchmarks.md uses it to size the full run)."""

    progress: Progress
    task: Any = None
    skipped: dict[str, str] | None = None  # test id -> why it was skipped or failed
    failures: int = 0
    started: float = 0.0
    # When the run began and from which commit: pytest-benchmark's JSON records both when
    # it is written, at the end, after hours in which the checkout may have moved on.
    began_at: str = ""
    commit: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, float]] = field(default_factory=dict)  # module -> phase -> s
    setups: dict[str, float] = field(default_factory=dict)  # fixture[param] -> seconds

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.skipped = {}
        self.started = time.monotonic()
        self.began_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.commit = get_commit_info()
        self.task = self.progress.add_task("Benchmarks", total=len(session.items))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Iterator[None]:
        began = time.monotonic()
        yield
        seconds = time.monotonic() - began
        if seconds >= SLOW_SETUP:
            param = getattr(request, "param", None)
            name = fixturedef.argname + (f"[{param}]" if param is not None else "")
            self.setups[name] = self.setups.get(name, 0.0) + seconds

    def durations(self) -> dict[str, Any]:
        return {
            "total_s": time.monotonic() - self.started if self.started else 0.0,
            "began_at": self.began_at,
            "commit": self.commit,
            "sections": self.sections,
            "setups": self.setups,
        }

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int, str]) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=location[2][:60])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        module = Path(report.nodeid.split("::")[0]).name
        phases = self.sections.setdefault(module, {})
        phases[report.when] = phases.get(report.when, 0.0) + report.duration
        if report.skipped and self.skipped is not None:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.skipped[report.nodeid] = reason.removeprefix("Skipped: ")
        elif report.failed and self.skipped is not None:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)[-300:]
            self.skipped[report.nodeid] = f"FAILED ({report.when}): {message}"
            self.failures += 1
        if report.when == "teardown" and self.task is not None:
            self.progress.advance(self.task)


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class SuiteRun:
    json_path: Path
    failures: int  # failed benchmarks: listed in the report, and bk bench exits with 1


def run_suite(settings: BenchSettings, out: Path, console: Console | None = None) -> SuiteRun:
    """Runs the suite into ``out``. A failing benchmark does not stop the others; the
    report lists it (``unavailable.json``) with its error."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / RESULTS_JSON
    console = console or Console(stderr=True)
    arguments = [
        str(SUITE),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        f"--rootdir={SUITE.parents[1]}",
        "--benchmark-only",
        f"--benchmark-json={json_path}",
        "--benchmark-max-time=0.1" if settings.quick else "--benchmark-max-time=2",
        "--benchmark-min-rounds=5",
        "--benchmark-disable-gc",
        # The project's per-test timeout (600 s) is for unit tests; a full run's call mix
        # and population take longer, and a hang should still end the run, not stall it.
        f"--timeout={QUICK_TEST_TIMEOUT if settings.quick else FULL_TEST_TIMEOUT}",
        # The project's pytest settings make warnings errors; "no benchmarks have been run"
        # would then crash bk bench instead of ending in BenchRunFailed below.
        "-W",
        "ignore::pytest_benchmark.logger.PytestBenchmarkWarning",
    ]
    progress = progress_bar(console, elapsed=True, transient=False)
    plugin = _Plugin(progress)
    # A bk bench started from an xdist worker (the CI smoke test) inherits the worker's
    # variables, and pytest-benchmark would then disable itself.
    environment: dict[str, str | None] = {
        **to_environment(settings),
        "PYTEST_XDIST_WORKER": None,
        "PYTEST_XDIST_WORKER_COUNT": None,
    }
    with progress, _environment(environment):
        code = pytest.main(arguments, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not json_path.exists():
        raise BenchRunFailed(f"the benchmark suite did not run (pytest exit code {int(code)})")
    (out / UNAVAILABLE_JSON).write_text(json.dumps(plugin.skipped or {}, indent=2) + "\n")
    (out / DURATIONS_JSON).write_text(json.dumps(plugin.durations(), indent=2) + "\n")
    return SuiteRun(json_path, plugin.failures)
