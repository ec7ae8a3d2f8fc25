"""How many generated cases a fuzzer runs: a bounded number in CI, many more with ``--slow``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SLOW = os.environ.get("BK_TEST_SLOW") == "1"


def examples(ci: int, slow: int | None = None) -> int:
    return (slow if slow is not None else ci * 10) if SLOW else ci


def fuzz_settings(ci: int, slow: int | None = None) -> settings:
    """Hypothesis settings of a fuzzer: no deadline (the machine is shared), no database."""
    return settings(
        max_examples=examples(ci, slow),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=not SLOW,  # CI runs the same cases every time; --slow explores
    )
