"""Shares of reports for concurrent writers: no writer needs another writer's files."""

from __future__ import annotations

import pytest

from bookkeeping.bench.writes import split_by_chain
from bookkeeping.generator import generate_reports


@pytest.mark.parametrize("shares", [1, 4, 16])
def test_every_input_is_made_earlier_in_the_same_share(shares: int) -> None:
    reports = list(generate_reports(600, seed=11))
    parts = split_by_chain(reports, shares)
    assert sorted(r.dirac_job_id for part in parts for r in part) == sorted(
        r.dirac_job_id for r in reports
    )
    for part in parts:
        made: set[str] = set()
        for report in part:
            assert set(report.input_files) <= made
            made.update(output.lfn for output in report.output_files)


def test_shares_are_about_equal() -> None:
    parts = split_by_chain(list(generate_reports(2000, seed=11)), 4)
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= max(sizes) // 4
