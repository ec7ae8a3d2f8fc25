"""PNG plots of a run (matplotlib, Agg backend: no display needed). Each function writes
one figure and returns its path, or ``None`` when the run has no figures for it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)

from bookkeeping.bench.callmix import METHODS  # noqa: E402
from bookkeeping.bench.results import RunResults  # noqa: E402

_SIZE = (8.0, 4.5)
_DPI = 80


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)
    return path


def call_mix_latency(results: RunResults, out: Path) -> Path | None:
    """Mean latency per method, one bar per access path (log scale)."""
    if not results.mix:
        return None
    figure, axes = plt.subplots(figsize=(10.0, 4.8))
    paths = list(results.mix)
    methods = [m for m in METHODS if any(m in results.mix[p] for p in paths)]
    width = 0.8 / len(paths)
    for index, path in enumerate(paths):
        values = [results.mix[path].get(m, {}).get("mean_us", 0) / 1000 for m in methods]
        positions = [i + (index - (len(paths) - 1) / 2) * width for i in range(len(methods))]
        axes.bar(positions, values, width, label=results.mix_labels[path])
    axes.set_xticks(range(len(methods)), methods, rotation=45, ha="right")
    axes.set_yscale("log")
    axes.set_ylabel("mean latency per call (ms)")
    axes.set_title("Random call mix: latency per method")
    axes.legend(fontsize="small")
    return _save(figure, out / "call_mix_latency.png")


def dump_vs_rows(results: RunResults, out: Path) -> Path | None:
    """Dump time against rows (log-log), with each path's least-squares slope."""
    if not results.dump:
        return None
    slopes = results.dump_slopes()
    figure, axes = plt.subplots(figsize=_SIZE)
    for path, by_rows in results.dump.items():
        rows = sorted(by_rows)
        label = results.dump_labels[path]
        if path in slopes:
            label += f" ({slopes[path].slope * 1e6:.2f} µs/row)"
        axes.plot(rows, [by_rows[n].mean for n in rows], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("rows in the table")
    axes.set_ylabel("time to read every row (s)")
    axes.set_title("Table dump (seed 001, Figure 9)")
    axes.legend(fontsize="small")
    return _save(figure, out / "dump_vs_rows.png")


def seed_queries(results: RunResults, out: Path) -> Path | None:
    if not results.seed:
        return None
    figure, axes = plt.subplots(figsize=_SIZE)
    queries = list(results.seed)
    paths = [p for p in results.seed_labels if any(p in results.seed[q] for q in queries)]
    width = 0.8 / len(paths)
    for index, path in enumerate(paths):
        values = [
            results.seed[q][path].median * 1e6 if path in results.seed[q] else 0 for q in queries
        ]
        positions = [i + (index - (len(paths) - 1) / 2) * width for i in range(len(queries))]
        axes.bar(positions, values, width, label=results.seed_labels[path])
    axes.set_xticks(range(len(queries)), [q.replace("_", " ") for q in queries])
    axes.set_ylabel("median latency (µs)")
    axes.set_title("The seed's two queries")
    axes.legend(fontsize="small")
    return _save(figure, out / "seed_queries.png")


def selection_vs_size(results: RunResults, out: Path) -> Path | None:
    if not results.selection:
        return None
    figure, axes = plt.subplots(figsize=_SIZE)
    for path, by_files in results.selection.items():
        sizes = sorted(by_files)
        axes.plot(sizes, [by_files[n].median * 1e3 for n in sizes], marker="o", label=path)
    axes.set_xscale("log")
    axes.set_yscale("log")  # the paths differ by orders of magnitude at 10^6 files
    axes.set_xlabel("files in the bookkeeping")
    axes.set_ylabel("median selection latency (ms)")
    axes.set_title("Dataset selection vs database size")
    axes.legend(fontsize="small")
    return _save(figure, out / "selection_vs_size.png")


def throughput_vs_clients(results: RunResults, out: Path) -> Path | None:
    if not results.concurrency:
        return None
    figure, axes = plt.subplots(figsize=_SIZE)
    for target, by_clients in results.concurrency.items():
        clients = sorted(by_clients)
        axes.plot(
            clients, [by_clients[n]["calls_per_s"] for n in clients], marker="o", label=target
        )
    axes.set_xscale("log", base=2)
    axes.set_xlabel("concurrent client processes")
    axes.set_ylabel("calls per second (all clients)")
    axes.set_title("Throughput vs clients")
    axes.legend(fontsize="small")
    return _save(figure, out / "throughput_vs_clients.png")


def writes_vs_writers(results: RunResults, out: Path) -> Path | None:
    if not results.writes:
        return None
    figure, axes = plt.subplots(figsize=_SIZE)
    for implementation in sorted({name for name, _ in results.writes}):
        counts = sorted(n for name, n in results.writes if name == implementation)
        axes.plot(
            counts,
            [results.writes[(implementation, n)]["files_per_s"] for n in counts],
            marker="o",
            label=implementation,
        )
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("concurrent writers (threads)")
    axes.set_ylabel("files recorded per second")
    axes.set_title("Production writer throughput vs writers")
    axes.legend(fontsize="small")
    return _save(figure, out / "writes_vs_writers.png")


PLOTS = (
    call_mix_latency,
    dump_vs_rows,
    seed_queries,
    selection_vs_size,
    writes_vs_writers,
    throughput_vs_clients,
)


def write_plots(results: RunResults, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [path for plot in PLOTS if (path := plot(results, out)) is not None]
