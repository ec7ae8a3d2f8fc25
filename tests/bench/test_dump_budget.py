"""The dump budget: a path too slow for the next size is measured at the smaller ones only,
with a reason the report shows in the dump section."""

from __future__ import annotations

from bookkeeping.bench.dump import DumpBudget, slope_lines
from bookkeeping.bench.results import LIMITED


def test_first_size_is_always_measured() -> None:
    assert DumpBudget(1.0).refusal("protocol", 1_000_000) is None


def test_size_estimated_over_the_budget_and_every_larger_one_are_refused() -> None:
    budget = DumpBudget(600.0)
    budget.record("protocol", 100_000, 40.0)  # 400 µs/row: 10^6 rows take ~400 s per round
    reason = budget.refusal("protocol", 1_000_000)
    assert reason is not None and reason.startswith(LIMITED)
    assert "1,000,000 rows" in reason and "800 s" in reason  # one round + one warm-up
    assert budget.refusal("protocol", 10_000_000) == reason
    assert budget.refusal("driver", 1_000_000) is None


def test_size_within_the_budget_is_measured() -> None:
    budget = DumpBudget(600.0)
    budget.record("protocol", 100_000, 2.0)
    assert budget.refusal("protocol", 1_000_000) is None


def test_slope_lines_give_each_path_its_slope_and_ratio_to_the_driver() -> None:
    medians = {
        "driver": {1_000: 0.002, 10_000: 0.011},  # 1 µs per row
        "protocol": {1_000: 0.004, 10_000: 0.031},  # 3 µs per row
        "core": {1_000: 0.003},  # one size: no slope
    }
    assert slope_lines(medians) == [
        "driver: 1.00 µs/row (medians at 1,000, 10,000 rows), 1.00× the driver's",
        "protocol: 3.00 µs/row (medians at 1,000, 10,000 rows), 3.00× the driver's",
    ]
    assert slope_lines({"protocol": medians["protocol"]}) == [
        "protocol: 3.00 µs/row (medians at 1,000, 10,000 rows)"
    ]
