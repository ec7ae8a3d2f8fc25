"""Building ``bk syncat serve``'s loops: the relay, the catalogue's consumer, and for each
SE served its consumer and its producer (a watcher on posix, a lister otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from bookkeeping.storage.posix import PosixElement
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.consumer import Consumer
from bookkeeping.syncat.plugins import Plugin, PluginContext, load
from bookkeeping.syncat.producers import Lister, PosixWatcher
from bookkeeping.syncat.relay import Relay
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.service import Loop, Service
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.syncat.trust import load_signer

CATALOGUE = "catalogue"
PREFETCH = 4


def se_endpoint(name: str) -> str:
    return f"se:{name}"


def build_service(
    engine: Engine,
    transport: Callable[[], Transport],
    routing: Routing,
    key_dir: Path,
    *,
    backend: str = "catalogue",
    relay: bool = True,
    catalogue_plugins: Sequence[str] = ("catalogue",),
    ses: Sequence[str] = (),
    requester: str = "root",
    grace: float = 60.0,
    period: float = 60.0,
    workers: int = 1,
    options: Mapping[str, str] | None = None,
    retention: float | None = 7 * 24 * 3600.0,
) -> Service:
    """``workers``: consumer loops sharing the catalogue's queue (each with its own broker
    connection and plug-ins; the database does the applying, and waits on round trips);
    ``options``: the plug-ins' (``PluginContext.options``, e.g. ``acl_group``);
    ``retention``: how long the relay keeps sent outbox rows (None: for ever)."""
    registry = StorageRegistry(engine)
    loops: list[Loop] = []
    if relay:
        everyone = [record.name for record in registry.list()]
        relay_transport = transport()
        relayer = Relay(
            engine,
            relay_transport,
            load_signer(key_dir, CATALOGUE),
            routing,
            ses=everyone,
            retention=retention,
        )
        loops.append(Loop("relay", lambda: relayer.run_once() > 0, close=relay_transport.close))
    for _ in range(workers if catalogue_plugins else 0):
        context = PluginContext(
            engine, backend=backend, open_element=registry.open, options=dict(options or {})
        )
        plugins = [load(name, context) for name in catalogue_plugins]
        loops.append(_consumer_loop(engine, transport(), routing.catalogue, CATALOGUE, plugins))
    for name in ses:
        record = registry.get(name)
        context = PluginContext(
            engine, backend=backend, open_element=registry.open, options=dict(options or {})
        )
        loops.append(
            _consumer_loop(
                engine,
                transport(),
                routing.se(name),
                se_endpoint(name),
                [load("storage", context)],
                serves=[name],
            )
        )
        signer = load_signer(key_dir, se_endpoint(name))
        element = registry.open(record)
        producer_transport = transport()
        producer: PosixWatcher | Lister
        if isinstance(element, PosixElement):
            producer = PosixWatcher(
                element.root,
                name,
                signer,
                producer_transport,
                routing,
                requester=requester,
                grace=grace,
            )
        else:
            producer = Lister(
                element, signer, producer_transport, routing, requester=requester, period=period
            )
        loops.append(
            Loop(
                f"producer {name}",
                producer.step,
                close=_both(producer.close, producer_transport.close),
            )
        )
    return Service(loops)


def _consumer_loop(
    engine: Engine,
    transport: Transport,
    queue: str,
    endpoint: str,
    plugins: list[Plugin],
    serves: Sequence[str] | None = None,
) -> Loop:
    consumer = Consumer(engine, transport, queue, endpoint, plugins, serves=serves)
    return Loop(
        f"consumer {endpoint}",
        # a few messages at a time: with bulk messages (up to 10,000 files) a large prefetch
        # would keep one consumer busy while the others sharing the queue wait
        lambda: consumer.run_once(limit=PREFETCH, timeout=0.5) > 0,
        idle=0.0,
        close=transport.close,
    )


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def close() -> None:
        try:
            first()
        finally:
            second()

    return close
