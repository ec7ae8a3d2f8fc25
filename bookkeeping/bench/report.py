"""The Markdown report of a run: every comparison in it was measured in that same run.

Sections always appear in the same order with the same headings (the CI smoke test checks
them); a section with nothing measured says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bookkeeping.bench.callmix import METHODS
from bookkeeping.bench.headline import headline, largest_share
from bookkeeping.bench.results import RunResults
from bookkeeping.bench.settings import BenchSettings

SECTIONS = (
    "## Headline figures",
    "## Run",
    "## Random call mix",
    "## Table dump",
    "## The seed's two queries",
    "## Dataset selection",
    "## Writes",
    "## Concurrency",
    "## Not available in this run",
)
# Benchmarks that failed are listed in the last section too, their reason starting "FAILED".


def _ms(microseconds: float) -> str:
    milliseconds = microseconds / 1000
    return f"{milliseconds:.3g}" if milliseconds < 100 else f"{milliseconds:,.0f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _image(out: Path, name: str, alt: str) -> list[str]:
    return [f"![{alt}]({name})", ""] if (out / name).exists() else []


# Suite modules in report order, with the section each one measures.
MODULE_SECTIONS = {
    "test_call_mix.py": "random call mix",
    "test_table_dump.py": "table dump",
    "test_seed_queries.py": "the seed's two queries",
    "test_selection.py": "dataset selection",
    "test_writes.py": "writes",
    "test_concurrency.py": "concurrency",
}
_SETUPS = {
    "unavailable": "populating the call-mix bookkeeping (both writers)",
    "dump_tables": "building the dump tables (both layouts)",
    "populated": "getting a selection bookkeeping ready",
    "datasets": "sampling the selection's datasets",
    "server_port": "starting the protocol server",
    "web_ports": "starting the web servers",
}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _began(results: RunResults, commit: dict[str, Any]) -> str:
    """When and from which commit the run began, as the runner recorded it; reports of
    older runs have only pytest-benchmark's figures, taken when the JSON was written."""
    began = results.durations.get("began_at")
    if began:
        commit = results.durations.get("commit") or commit
        when, then = f"started {began}", ""
    else:
        when, then = f"results written {results.started}", " then"
    dirty = " (with uncommitted changes)" if commit.get("dirty") else ""
    return f"- {when}; commit{then} `{str(commit.get('id', '?'))[:12]}`{dirty}"


def _durations(results: RunResults) -> list[str]:
    durations = results.durations
    if not durations.get("sections"):
        return []
    sections = durations["sections"]
    rows = [
        [
            title,
            _minutes(sum(sections[module].values())),
            _minutes(sections[module].get("setup", 0.0)),
        ]
        for module, title in MODULE_SECTIONS.items()
        if module in sections
    ]
    lines = [
        f"Time taken: **{_minutes(durations.get('total_s', 0.0))}** in all (report and plots "
        "not included); per section, set-up (populations, servers) included:",
        "",
        *_table(["section", "time", "of which set-up"], rows),
    ]
    slow = durations.get("setups", {})
    if slow:
        named = [
            f"{_SETUPS.get(name.split('[')[0], name)}"
            + (f" ({name.split('[')[1].rstrip(']')} files)" if "[" in name else "")
            + f": {_minutes(seconds)}"
            for name, seconds in slow.items()
        ]
        lines += ["Slow set-ups: " + "; ".join(named) + ".", ""]
    return lines


def _run(results: RunResults, settings: BenchSettings) -> list[str]:
    machine = results.machine
    cpu = machine.get("cpu", {})
    commit = results.commit
    selection = (
        "kept databases of benchmarks/views_data.py"
        if settings.selection_cached
        else "scratch databases populated in the run"
    )
    return [
        SECTIONS[1],
        "",
        _began(results, commit),
        f"- back-end **{settings.backend}**; {'quick' if settings.quick else 'full'} mode; "
        f"{settings.files:,} generated files in both implementations; call stream of "
        f"{settings.calls:,} calls per path (seed {settings.seed}); dump sizes "
        + ", ".join(f"{n:,}" for n in settings.dump_sizes)
        + f" rows (budget {settings.dump_budget:,.0f} s per path and size); selection at "
        + ", ".join(f"{n:,}" for n in settings.selection_sizes)
        + f" files ({selection}); {settings.write_files:,} files per writes round, "
        + "/".join(map(str, settings.writer_counts))
        + " writers; "
        + "/".join(map(str, settings.clients))
        + f" client processes of {settings.client_calls} calls each",
        f"- {machine.get('python_implementation', 'Python')} {machine.get('python_version', '')}"
        f" on {machine.get('system', '')} {machine.get('machine', '')}, "
        f"{cpu.get('count', '?')} CPUs ({cpu.get('brand_raw', 'unknown CPU')})",
        "",
        *_durations(results),
    ]


def _call_mix(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[2], ""]
    if not results.mix:
        return lines + ["No access path was measured (see *Not available*).", ""]
    paths = list(results.mix)
    lines += [
        "The identical seeded stream of random calls, with random parameters, over every "
        "method of the `Bookkeeping` interface, through each path. Times in ms per call: "
        "mean / median / p95.",
        "",
    ]
    header = ["method", "calls"] + [results.mix_labels[p] for p in paths]
    rows = []
    for method in METHODS:
        cells = [results.mix[p].get(method) for p in paths]
        if not any(cells):
            continue
        calls = next(int(c["calls"]) for c in cells if c)
        rows.append(
            [f"`{method}`", str(calls)]
            + [
                f"{_ms(c['mean_us'])} / {_ms(c['median_us'])} / {_ms(c['p95_us'])}"
                + (f" ({int(c['errors'])} errors)" if c and c["errors"] else "")
                if c
                else "–"
                for c in cells
            ]
        )
    rows.append(["**whole stream (s)**", ""] + [f"**{results.mix_totals[p]:.2f}**" for p in paths])
    lines += _table(header, rows)
    lines += _statements_per_call(results, paths)
    if "warehouse" in results.mix_totals:
        base = results.mix_totals["warehouse"]
        ratios = [
            f"{results.mix_labels[p]} {results.mix_totals[p] / base:.2f}×"
            for p in paths
            if p != "warehouse"
        ]
        if ratios:
            lines += ["Whole stream relative to the warehouse: " + "; ".join(ratios) + ".", ""]
    shares = [
        f"{results.mix_labels[p]} `{share[0]}` {share[1]:.0%}"
        for p in paths
        if (share := largest_share(results, p)) is not None
    ]
    if shares:
        lines += ["Largest part of each path's stream time: " + "; ".join(shares) + ".", ""]
    for path, examples in results.mix_errors.items():
        for method, example in examples.items():
            lines.append(f"- {results.mix_labels[path]} `{method}` raised: {example}")
    return lines + [""] + _image(out, "call_mix_latency.png", "latency per method")


def _statements_per_call(results: RunResults, paths: list[str]) -> list[str]:
    """Statements each in-process path sent per call (mean / most), where counted."""
    counted = [p for p in paths if any("statements_mean" in c for c in results.mix[p].values())]
    if not counted:
        return []
    header = ["method"] + [results.mix_labels[p] for p in counted]
    rows = []
    for method in METHODS:
        cells = [results.mix[p].get(method) or {} for p in counted]
        if not any("statements_mean" in c for c in cells):
            continue
        rows.append(
            [f"`{method}`"]
            + [
                f"{c['statements_mean']:.1f} / {int(c['statements_max'])}"
                if "statements_mean" in c
                else "–"
                for c in cells
            ]
        )
    return [
        "",
        "Statements sent to the database per call, mean / most (each a round trip; the "
        "catalogue's first is the schema version's read):",
        "",
        *_table(header, rows),
    ]


def _dump(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[3], ""]
    if not results.dump:
        return lines + ["Nothing measured.", ""]
    sizes = sorted({n for by_rows in results.dump.values() for n in by_rows})
    slopes = results.dump_slopes()
    header = ["path"] + [f"{n:,} rows (ms)" for n in sizes] + ["slope (µs/row)"]
    rows = []
    for path, by_rows in results.dump.items():
        rows.append(
            [results.dump_labels[path]]
            + [_ms(by_rows[n].mean * 1e6) if n in by_rows else "–" for n in sizes]
            + [f"{slopes[path].slope * 1e6:.2f}" if path in slopes else "–"]
        )
    lines += [
        "Reading every row of a files-shaped table (mean of the rounds); the slope is the "
        "least-squares fit of time against rows.",
        "",
        *_table(header, rows),
    ]
    if "driver" in slopes:
        base = slopes["driver"].slope
        lines += [
            "Slope relative to the driver cursor (the seed's JDBC path): "
            + "; ".join(
                f"{results.dump_labels[p]} {line.slope / base:.1f}×"
                for p, line in slopes.items()
                if p != "driver"
            )
            + ".",
            "",
        ]
    for test, reason in results.limited.items():
        path = test.rsplit("[", 1)[-1].split("-")[0]
        lines.append(f"- {results.dump_labels.get(path, path)}: {reason}.")
    if results.limited:
        lines += ["", "Its slope is fitted on the sizes it was measured at.", ""]
    return lines + _image(out, "dump_vs_rows.png", "dump time vs rows")


def _seed(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[4], ""]
    if not results.seed:
        return lines + ["Nothing measured.", ""]
    paths = [p for p in results.seed_labels]
    header = ["query"] + [results.seed_labels[p] for p in paths]
    rows = [
        [query.replace("_", " ")]
        + [f"{by_path[p].median * 1e6:,.0f} µs" if p in by_path else "–" for p in paths]
        for query, by_path in results.seed.items()
    ]
    lines += [
        "Median per call. *GUID by file id*: the warehouse reads one parameter row, the "
        "catalogue one attribute of one entry. *Size by GUID*: the warehouse self-joins "
        "`fileParams`, the catalogue does one lookup.",
        "",
        *_table(header, rows),
    ]
    return lines + _image(out, "seed_queries.png", "seed queries")


def _selection(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[5], ""]
    if not results.selection:
        return lines + [
            "Not measured in this run (see *Not available*; growing databases need scratch "
            "databases or kept ones, so not with `--db`).",
            "",
        ]
    sizes = sorted({n for by_files in results.selection.values() for n in by_files})
    header = ["path"] + [f"{n:,} files (ms)" for n in sizes]
    statements = results.selection_statements

    def cell(path: str, n: int) -> str:
        timing = results.selection[path].get(n)
        if timing is None:
            return "–"
        count = statements.get(path, {}).get(n)
        return _ms(timing.median * 1e6) + (f" ({count})" if count is not None else "")

    rows = [[path] + [cell(path, n) for n in sizes] for path in results.selection]
    intro = [
        "Median time of one dataset selection (a 50-file page of a full bookkeeping path, "
        "with the dataset's totals; the rounds cycle through the paths of 50 sampled files) "
        "in bookkeepings of growing size; in parentheses the statements one selection sends "
        "(SQLite's emulated BEGIN not counted).",
        "",
    ]
    how = [
        f"- {n:,} files: {info.get('populated', 'populated in this run')}; ready in "
        f"{_minutes(float(info.get('ready_s', 0.0)))}"
        + (
            f"; the first dataset holds {int(info['dataset_files']):,} files"
            if "dataset_files" in info
            else ""
        )
        for n, info in sorted(results.selection_info.items())
    ]
    return (
        lines
        + intro
        + _table(header, rows)
        + ["The bookkeepings:", "", *how, ""]
        + _image(out, "selection_vs_size.png", "selection")
    )


def _writes(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[6], ""]
    if not results.writes:
        return lines + ["Nothing measured.", ""]
    header = ["implementation", "writers", "reports", "files", "reports/s", "files/s"]
    rows = [
        [
            implementation,
            str(writers),
            f"{int(info['reports']):,}",
            f"{int(info['files']):,}",
            f"{info['reports_per_s']:,.1f}",
            f"{info['files_per_s']:,.1f}",
        ]
        for (implementation, writers), info in sorted(results.writes.items())
    ]
    return lines + [
        "The production writer recording generated job reports one by one (the real-time "
        "path) into an empty bookkeeping, so every first use of a parameter name adds its "
        "attribute column in the catalogue; concurrent writers are threads, each recording "
        "its own chains of productions with a writer of its own.",
        "",
        *_table(header, rows),
        *_image(out, "writes_vs_writers.png", "files per second vs writers"),
    ]


def _concurrency(results: RunResults, out: Path) -> list[str]:
    lines = [SECTIONS[7], ""]
    if not results.concurrency:
        return lines + ["Nothing measured.", ""]
    header = ["target", "clients", "calls/s", "p50 (ms)", "p95 (ms)", "p99 (ms)", "errors"]
    rows = [
        [
            target,
            str(clients),
            f"{info['calls_per_s']:,.0f}",
            f"{info['p50_ms']:.2f}",
            f"{info['p95_ms']:.2f}",
            f"{info['p99_ms']:.2f}",
            str(int(info.get("errors", 0))),
        ]
        for target, by_clients in results.concurrency.items()
        for clients, info in sorted(by_clients.items())
    ]
    return (
        lines
        + [
            "Separate client processes on loopback, each making a bounded number of look-ups "
            "of a file by id (the protocol server: `selectattr` of its GUID; the web API: the "
            "file's JSON page, `GET /api/v1/file/<id>`, served by a threaded WSGI server); "
            "throughput over all clients, latency percentiles over all calls.",
            "",
            *_table(header, rows),
        ]
        + _image(out, "throughput_vs_clients.png", "throughput vs clients")
    )


def _unavailable(results: RunResults) -> list[str]:
    lines = [SECTIONS[8], ""]
    if not results.unavailable:
        return lines + ["Every benchmark ran.", ""]
    return lines + [f"- `{test}`: {reason}" for test, reason in results.unavailable.items()] + [""]


def render(results: RunResults, settings: BenchSettings, out: Path) -> str:
    lines = [
        "# Benchmark report: warehouse vs catalogue access",
        "",
        "Written by `bk bench` (docs/benchmarks.md). All figures come from one run, so "
        "ratios between paths are meaningful; absolute times depend on the machine.",
        "",
        SECTIONS[0],
        "",
        *headline(results),
        "",
        *_run(results, settings),
        *_call_mix(results, out),
        *_dump(results, out),
        *_seed(results, out),
        *_selection(results, out),
        *_writes(results, out),
        *_concurrency(results, out),
        *_unavailable(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: RunResults, settings: BenchSettings, out: Path) -> Path:
    path = out / "report.md"
    path.write_text(render(results, settings, out))
    return path
