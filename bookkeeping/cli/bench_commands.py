"""``bk bench``: run the benchmark study and write its report (docs/benchmarks.md)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click
from rich.console import Console

from bookkeeping.bench.settings import BACKENDS, QUICK, from_environment
from bookkeeping.cli.common import report_errors
from bookkeeping.engines import backend_name


@click.command()
@click.option("--quick", is_flag=True, help="Small sizes: finishes in a few minutes (CI).")
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Default: sqlite.")
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    default=None,
    help="An empty database to benchmark in (default: a scratch database, dropped after; "
    "postgresql/mariadb scratch databases need BK_TEST_POSTGRES_URL/BK_TEST_MARIADB_URL).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Directory for benchmark.json, report.md and the PNG plots.",
)
@click.option("--calls", type=click.IntRange(min=1), default=None, help="Calls in the mix.")
@click.option("--files", type=click.IntRange(min=1), default=None, help="Files to generate.")
@report_errors
def bench(
    quick: bool,
    backend: str | None,
    database_url: str | None,
    out: Path,
    calls: int | None,
    files: int | None,
) -> None:
    """Compare warehouse and catalogue access: random call mix, table dump, the seed's
    queries, writes and concurrent clients, all in one run; writes a Markdown report with
    plots into OUT."""
    if database_url and backend and backend_name(database_url) != backend:
        raise click.UsageError(f"--db is a {backend_name(database_url)} URL, not {backend}")
    # BK_BENCH_* variables (e.g. BK_BENCH_DUMP_SIZES) refine the sizes; flags win.
    settings = from_environment({**os.environ, QUICK: "1" if quick else "0"})
    settings = dataclasses.replace(
        settings,
        backend=backend or (backend_name(database_url) if database_url else "sqlite"),
        database_url=database_url,
        calls=calls or settings.calls,
        files=files or settings.files,
    )
    console = Console(stderr=True)
    # Imported here: pytest and matplotlib take seconds to import, which every other bk
    # command would otherwise pay.
    from bookkeeping.bench.plots import write_plots
    from bookkeeping.bench.report import write_report
    from bookkeeping.bench.results import load
    from bookkeeping.bench.runner import UNAVAILABLE_JSON, run_suite

    run = run_suite(settings, out, console)
    results = load(run.json_path, out / UNAVAILABLE_JSON)
    plots = write_plots(results, out)
    report = write_report(results, settings, out)
    click.echo(f"Report: {report}")
    for plot in plots:
        click.echo(f"Plot:   {plot}")
    if run.failures:
        click.secho(
            f"{run.failures} benchmark(s) failed: see the report's last section", err=True, fg="red"
        )
        raise SystemExit(1)
