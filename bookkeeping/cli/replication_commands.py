"""``bk replication``: read replicas' health and catalogue subtree replicas (bootstrap,
run, status, prune). See docs/replication.md."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings, mask_url
from bookkeeping.engines import create_engine, read_routing
from bookkeeping.replication.prune import prune
from bookkeeping.replication.routing import ReadRouter
from bookkeeping.replication.subtrees import SubtreeReplica
from bookkeeping.replication.tables import replication_state, replication_subtrees

MASTER_HELP = "The master catalogue's database URL (default: $BK_REPLICATION_MASTER)."


@click.group()
def replication() -> None:
    """Read replicas and catalogue subtree replicas."""


def _master_option(function: Any) -> Any:
    return click.option(
        "--master", "master_url", envvar="BK_REPLICATION_MASTER", metavar="URL", help=MASTER_HELP
    )(function)


@replication.command("bootstrap")
@click.argument("path")
@_master_option
@db_option
@report_errors
def bootstrap_command(settings: Settings, path: str, master_url: str | None) -> None:
    """Make PATH of the master a read-only replica in this (--db) catalogue: a snapshot,
    then the master's log from the snapshot's position."""
    replica, engines = _replica(settings, master_url, path)
    try:
        position = replica.bootstrap()
    finally:
        _dispose(engines)
    click.echo(f"{path}: bootstrapped from {replica.master_name} at log position {position}")


@replication.command("run")
@click.argument("path")
@_master_option
@click.option("--once", is_flag=True, help="Catch up once and exit.")
@db_option
@report_errors
def run_command(settings: Settings, path: str, master_url: str | None, once: bool) -> None:
    """Replay the master's log for PATH as it comes (until SIGINT/SIGTERM)."""
    replica, engines = _replica(settings, master_url, path)
    try:
        if once:
            click.echo(f"{path}: applied {replica.catch_up()} record(s)")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        replica.run(stop)
    finally:
        _dispose(engines)


@replication.command("prune")
@click.option(
    "--retention",
    "retention_s",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Also remove records older than this, applied or not (a slave that still needed "
    "one is told to bootstrap again).",
)
@db_option
@report_errors
def prune_command(settings: Settings, retention_s: float | None) -> None:
    """Remove from this (--db, the master's) update log the records every registered slave
    has applied (all of a subtree's records when it has no slave)."""
    engine = engine_for(settings)
    try:
        results = prune(engine, retention_s=retention_s)
    finally:
        engine.dispose()
    table = Table("subtree", "removed", "pruned up to", "slaves", "must bootstrap again")
    for row in results:
        table.add_row(
            row.path, str(row.removed), str(row.pruned_id), str(row.slaves), str(row.behind)
        )
    Console().print(table if results else "no master subtrees: nothing to prune")


@replication.command("status")
@_master_option
@db_option
@report_errors
def status_command(settings: Settings, master_url: str | None) -> None:
    """The read replicas' health and this catalogue's replicated subtrees (their lag
    needs --master)."""
    engine = engine_for(settings)
    master = create_engine(master_url) if master_url else None
    console = Console()
    try:
        router = read_routing(engine)
        if isinstance(router, ReadRouter):
            console.print(_replicas_table(router))
        else:
            console.print("read replicas: none configured (BK_READ_REPLICAS)")
        console.print(_subtrees_table(engine, master))
    finally:
        _dispose([engine, *([master] if master else [])])


def _replicas_table(router: ReadRouter) -> Table:
    table = Table("read replica", "state", "replayed", "lag (s)", "reads", "problem")
    for row in router.probe_all():
        lag = "-" if row.lag_s is None else f"{row.lag_s:.3f}"
        table.add_row(row.url, row.state, str(row.replayed), lag, str(row.reads), row.problem or "")
    return table


def _subtrees_table(engine: sa.Engine, master: sa.Engine | None) -> Table:
    table = Table("subtree", "role", "master", "applied", "pending", "lag (s)", "last applied")
    with engine.connect() as connection:
        subtrees = connection.execute(
            sa.select(replication_subtrees).order_by(replication_subtrees.c.path)
        ).all()
        states = {row.path: row for row in connection.execute(sa.select(replication_state)).all()}
    for subtree in subtrees:
        state = states.get(subtree.path)
        applied = str(state.applied_id) if state else "-"
        ago = f"{time.time() - state.applied_at:.1f} s ago" if state else "-"
        pending = lag = "-"
        if subtree.role == "slave" and master is not None:
            status = SubtreeReplica(master, engine, subtree.path).status()
            pending, lag = str(status.pending), f"{status.lag_s:.3f}"
        table.add_row(subtree.path, subtree.role, subtree.master, applied, pending, lag, ago)
    return table


def _replica(
    settings: Settings, master_url: str | None, path: str
) -> tuple[SubtreeReplica, list[sa.Engine]]:
    if not master_url:
        raise click.UsageError("give the master's database URL: --master URL")
    slave = engine_for(settings)
    master = create_engine(master_url)
    if mask_url(master.url) == mask_url(slave.url):
        _dispose([master, slave])
        raise click.UsageError("--master and --db name the same database")
    return SubtreeReplica(master, slave, path), [master, slave]


def _dispose(engines: list[sa.Engine]) -> None:
    for engine in engines:
        engine.dispose()
