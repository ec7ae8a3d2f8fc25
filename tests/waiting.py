"""Waiting on a condition instead of sleeping a fixed time: a test goes on as soon as what it
waits for has happened, and fails with a clear message if it never does (within a bound)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT = 10.0


def wait_until(
    condition: Callable[[], object],
    what: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
) -> Any:
    """``condition()``'s first true value; AssertionError naming ``what`` after ``timeout``
    seconds (the machine may be loaded: the bound is generous, the wait usually short)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)
