"""``bk aggregation worker``: an rq worker on Redis preparing deliveries.

Jobs run in the worker's own process (``SimpleWorker``, no fork: the database engine and
the storage elements' connections are not shared across a fork). A job names a delivery
row; the row is claimed like the embedded worker claims it, and the job then drains any
other claimable rows (queued while Redis was down, or left ``copying`` by a killed worker)
so nothing waits for a job that was never enqueued.
"""

from __future__ import annotations

from bookkeeping.aggregation.runtime import RQ_QUEUE, Aggregation, worker_name

_serving: Aggregation | None = None


def rq_prepare(delivery_id: int) -> bool:
    if _serving is None:
        raise RuntimeError("rq_prepare runs inside `bk aggregation worker` only")
    name = worker_name()
    prepared = _serving.run_once(name, delivery_id)
    while _serving.run_once(name):
        prepared = True
    return prepared


def serve(aggregation: Aggregation, *, burst: bool = False) -> None:
    """Work the queue until stopped (``burst``: until it is empty)."""
    from rq import Queue, SimpleWorker

    global _serving
    _serving = aggregation
    if aggregation.redis is None:
        raise RuntimeError("the rq worker needs a Redis URL (BK_AGGREGATION_REDIS_URL)")
    while aggregation.run_once(worker_name()):  # leftovers first
        pass
    queue = Queue(RQ_QUEUE, connection=aggregation.redis)
    SimpleWorker([queue], connection=aggregation.redis).work(burst=burst, with_scheduler=False)
