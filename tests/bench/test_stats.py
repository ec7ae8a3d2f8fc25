from __future__ import annotations

import pytest

from bookkeeping.bench.stats import fit_line, percentile, summarise


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 1.0) == 4.0
    assert percentile([7.0], 0.95) == 7.0


def test_summary_of_unsorted_values() -> None:
    summary = summarise([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (summary.count, summary.mean, summary.median) == (5, 3.0, 3.0)
    assert summary.p95 == pytest.approx(4.8)


def test_fit_line_recovers_slope_and_intercept() -> None:
    line = fit_line([1_000, 10_000, 100_000], [0.002 + 3e-6 * n for n in (1_000, 10_000, 100_000)])
    assert line.slope == pytest.approx(3e-6)
    assert line.intercept == pytest.approx(0.002)


def test_fit_line_needs_two_distinct_sizes() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        fit_line([1_000, 1_000], [0.1, 0.2])
