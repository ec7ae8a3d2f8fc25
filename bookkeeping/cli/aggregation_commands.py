"""``bk aggregation worker|run-once|expire``: the aggregation service's workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from bookkeeping.aggregation.runtime import (
    Aggregation,
    AggregationSettings,
    environment_lookup,
    settings_from,
)
from bookkeeping.backends import BACKENDS, open_bookkeeping, open_writers
from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings

_BACKENDS = click.Choice(["warehouse", "catalogue"])


@contextmanager
def _service(settings: Settings, backend: str, redis_url: str | None) -> Iterator[Aggregation]:
    def lookup(key: str) -> str | None:
        if key == "REDIS_URL" and redis_url:
            return redis_url
        if key == "WORKER":
            return "none"  # this process is the worker; it starts no thread of its own
        return environment_lookup(key)

    service_settings: AggregationSettings = settings_from(lookup, settings.data_dir)
    engine = engine_for(settings)
    service = Aggregation(engine, open_bookkeeping(engine, backend), service_settings)
    if service_settings.recall == "daemon":
        from bookkeeping.aggregation_recall import DaemonRecaller

        service.recaller_factory = lambda: DaemonRecaller(service.engine, service.reader)
    try:
        yield service
    finally:
        service.close()
        engine.dispose()


def _options(function):
    function = click.option(
        "--backend",
        type=_BACKENDS,
        default="warehouse",
        show_default=True,
        help="The bookkeeping implementation the searches read",
    )(function)
    return click.option(
        "--redis-url",
        default=None,
        metavar="URL",
        help="Redis of the rq queue and the cache [default: $BK_AGGREGATION_REDIS_URL]",
    )(function)


@click.group("aggregation")
def aggregation() -> None:
    """Prepared deliveries of searches: workers and expiry (docs/aggregation.md)."""


@aggregation.command("worker")
@db_option
@_options
@click.option("--burst", is_flag=True, help="Stop once the queue is empty")
@report_errors
def worker(settings: Settings, backend: str, redis_url: str | None, burst: bool) -> None:
    """Prepare deliveries from the rq queue on Redis until stopped (Ctrl+C).

    Deliveries left queued or half-copied (a worker killed) are taken first."""
    from bookkeeping.aggregation.worker import serve

    with _service(settings, backend, redis_url) as service:
        if service.redis is None:
            raise click.UsageError("the rq worker needs --redis-url or BK_AGGREGATION_REDIS_URL")
        serve(service, burst=burst)


@aggregation.command("run-once")
@db_option
@_options
@report_errors
def run_once(settings: Settings, backend: str, redis_url: str | None) -> None:
    """Expire unused deliveries, then prepare every claimable one (no Redis needed)."""
    with _service(settings, backend, redis_url) as service:
        prepared = 0
        while service.run_once():
            prepared += 1
        click.echo(f"{prepared} deliveries prepared")


@aggregation.command("expire")
@db_option
@_options
@report_errors
def expire(settings: Settings, backend: str, redis_url: str | None) -> None:
    """Remove deliveries unused for their time to live, and expired cache entries."""
    with _service(settings, backend, redis_url) as service:
        click.echo(f"{service.expire()} deliveries expired")


@click.command("extract")
@db_option
@click.option(
    "--mdd",
    "description",
    required=True,
    metavar="DESCRIPTION",
    help="Metadata description: a TOML file, or the name of one shipped (generated)",
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--backend",
    type=click.Choice([*BACKENDS, "both"]),
    default=None,
    help="Implementation(s) recording the files (default: $BK_BACKEND, else catalogue)",
)
@click.option("--se", default=None, help="Also put each file on this storage element")
@report_errors
def extract(
    settings: Settings,
    description: str,
    files: tuple[Path, ...],
    backend: str | None,
    se: str | None,
) -> None:
    """Read FILES' metadata as DESCRIPTION says and register them through the writer.

    Files already recorded are never recorded twice: their visibility (and with --se their
    copy) is updated. One line per file; exit status 1 if any failed."""
    from bookkeeping.aggregation.description import load
    from bookkeeping.aggregation.extractor import Extractor
    from bookkeeping.storage.registry import StorageRegistry

    loaded = load(description)
    choice = backend or settings.backend
    engine = engine_for(settings)
    try:
        writers = open_writers(engine, choice)
        reader = open_bookkeeping(engine, "warehouse" if choice == "both" else choice)
        registry = StorageRegistry(engine) if se else None
        results = Extractor(reader, list(writers.values()), registry, se).extract(
            loaded, list(files)
        )
    finally:
        engine.dispose()
    for result in results:
        name = result.lfn or str(result.file)
        click.echo(f"{result.outcome:9} {name}" + (f"  ({result.detail})" if result.detail else ""))
    failed = sum(1 for r in results if r.outcome == "failed")
    counts = {
        o: sum(1 for r in results if r.outcome == o)
        for o in ("recorded", "updated", "unchanged", "failed")
    }
    click.echo(", ".join(f"{n} {o}" for o, n in counts.items()), err=True)
    if failed:
        raise SystemExit(1)
