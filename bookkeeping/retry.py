"""Bounded retries of work that lost a race or met a transient failure: the one back-off of
the project (tenacity), used by both writers and the changes to recorded files.

Only errors the caller names as worth another attempt are retried (a concurrent writer's
row, a deadlock, a lock timeout, a lost connection); anything else, and the last attempt's
error, propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

T = TypeVar("T")

DEFAULT_ATTEMPTS = 6
PAUSE_UNIT = 0.01  # seconds: pauses are random in [0, 0.01], [0, 0.02], [0, 0.04]...

__all__ = ["DEFAULT_ATTEMPTS", "retrying"]


def retrying(
    work: Callable[[], T],
    *,
    retry_on: Callable[[BaseException], bool],
    attempts: int = DEFAULT_ATTEMPTS,
    before_retry: Callable[[], object] | None = None,
) -> T:
    """``work()``, called again after an error ``retry_on`` accepts, at most ``attempts``
    times in all. Before each new attempt ``before_retry()`` (e.g. forget a cache) and a
    random pause that doubles its bound each time, so that two writers that collided do not
    collide again in step."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")

    def before_sleep(state: RetryCallState) -> None:
        if before_retry is not None:
            before_retry()

    retryer = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=PAUSE_UNIT),
        retry=retry_if_exception(retry_on),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retryer(work)
