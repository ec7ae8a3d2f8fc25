"""What a run measures: the defaults of quick and full mode, and the variables that refine
them, as ``bk bench`` passes them to the suite."""

from __future__ import annotations

import dataclasses

from bookkeeping.bench.settings import from_environment, to_environment


def test_quick_selection_populates_small_scratch_databases() -> None:
    settings = from_environment({"BK_BENCH_QUICK": "1", "BK_BENCH_BACKEND": "postgresql"})
    assert settings.selection_sizes == (200, 800)
    assert not settings.selection_cached


def test_full_selection_reaches_a_million_files_from_kept_databases() -> None:
    for backend in ("sqlite", "postgresql"):
        settings = from_environment({"BK_BENCH_BACKEND": backend})
        assert settings.selection_cached
        assert settings.selection_sizes == (1_000, 10_000, 100_000, 1_000_000)
        assert max(settings.dump_sizes) == 1_000_000
        assert settings.calls == 100_000  # the seed's stream length, the default


def test_mariadb_has_no_kept_databases_so_its_sizes_stay_populable() -> None:
    settings = from_environment({"BK_BENCH_BACKEND": "mariadb", "BK_BENCH_SELECTION_CACHE": "1"})
    assert not settings.selection_cached
    assert settings.selection_sizes == (1_000, 10_000, 100_000)


def test_variables_refine_the_defaults_and_survive_the_trip_to_the_suite() -> None:
    settings = from_environment(
        {
            "BK_BENCH_BACKEND": "postgresql",
            "BK_BENCH_SELECTION_SIZES": "10000,1000000",
            "BK_BENCH_SELECTION_CACHE": "0",
            "BK_BENCH_DUMP_BUDGET": "120",
        }
    )
    assert settings.selection_sizes == (10_000, 1_000_000)
    assert not settings.selection_cached
    assert settings.dump_budget == 120.0
    assert from_environment(to_environment(settings)) == settings


def test_backend_chosen_after_reading_the_variables_sets_the_selection_source() -> None:
    # bk bench reads the variables first, then applies --backend (bench_commands.py).
    settings = dataclasses.replace(from_environment({}), backend="mariadb")
    assert to_environment(settings)["BK_BENCH_SELECTION_CACHE"] == "0"
    assert to_environment(settings)["BK_BENCH_SELECTION_SIZES"] == "1000,10000,100000"
