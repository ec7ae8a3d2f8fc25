"""The data generator: exact size, reproducible, and realistic enough to mean something."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest

from bookkeeping.generator import generate_reports
from bookkeeping.writer.validation import check_report

LFN = re.compile(
    r"^/lhcb/(LHCb|MC)/[A-Za-z0-9]+/[A-Z.]+/(\d{8})/\d{4}/(\d{8})_(\d{8})_\d\.[a-z.]+$"
)


@pytest.mark.parametrize("files", [0, 1, 2, 3, 17, 500])
def test_generator_makes_exactly_the_files_asked_for(files: int) -> None:
    assert sum(len(r.output_files) for r in generate_reports(files, seed=1)) == files


def test_generator_is_reproducible_and_seed_dependent() -> None:
    assert list(generate_reports(200, seed=4)) == list(generate_reports(200, seed=4))
    assert list(generate_reports(200, seed=4)) != list(generate_reports(200, seed=5))


def test_generated_reports_are_valid_and_realistic() -> None:
    reports = list(generate_reports(1500, seed=2))
    made: set[str] = set()
    guids: set[str] = set()
    types: Counter[str] = Counter()
    for report in reports:
        assert check_report(report) == []
        assert set(report.input_files) <= made  # ancestry: inputs were written before
        for output in report.output_files:
            match = LFN.match(output.lfn)
            assert match, output.lfn
            assert int(match.group(2)) == int(match.group(3)) == report.production
            assert uuid.UUID(output.guid).version == 4
            made.add(output.lfn)
            guids.add(output.guid)
            types[output.file_type] += 1
    assert len(guids) == len(made) == 1500
    assert {"RAW", "SDST", "DST", "MDST", "SIM", "DIGI", "ALLSTREAMS.DST"} <= set(types)
    assert {r.config_name for r in reports} == {"LHCb", "MC"}
    assert len({r.production for r in reports}) >= 10
    assert any(r.input_files for r in reports)
    copies = [c for r in reports for f in r.output_files for c in f.replicas]
    assert {c.storage_class for c in copies} == {"tape", "disk", "recall"}
    assert len({c.site for c in copies}) >= 5
    assert all(r.run is not None for r in reports if r.config_name == "LHCb")


def test_negative_file_count_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        generate_reports(-1)


def test_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed must not be negative"):
        generate_reports(10, seed=-1)


def test_seeds_number_their_jobs_apart() -> None:
    """Productions of two seeds are different jobs, so both go into one bookkeeping."""
    first = {r.dirac_job_id for r in generate_reports(200, seed=0)}
    second = {r.dirac_job_id for r in generate_reports(200, seed=1)}
    assert len(first) > 100 and len(second) > 100 and not first & second
