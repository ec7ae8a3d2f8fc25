"""Concurrent writers on one database: threads, each with its own session."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bookkeeping.amga_adapter.catalogue import Catalogue, CatalogueSession

THREADS = 4


def _in_threads(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(number: int) -> None:
        try:
            barrier.wait()
            work(number)
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_writers_adding_the_same_attribute_both_succeed(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/p")
    for round_ in range(3):

        def work(number: int, round_: int = round_) -> None:
            session = catalogue.session("root")
            session.addentry(f"/p/e{round_}-{number}", {f"Param{round_}": str(number)}, extend=True)

        assert _in_threads(work) == []
    assert root.listattr("/p") == [(f"Param{r}", "varchar(255)") for r in range(3)]
    rows = dict(root.getattr("/p/*", ["Param0", "Param1", "Param2"]))
    assert rows["e1-2"] == [None, "2", None]
    assert len(rows) == 3 * THREADS


def test_concurrent_addattr_of_one_name_has_exactly_one_winner(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/p")
    winners: list[int] = []

    def work(number: int) -> None:
        try:
            catalogue.session("root").addattr("/p", "x", "int")
            winners.append(number)
        except Exception as exc:
            assert type(exc).__name__ == "AttributeExists"

    assert _in_threads(work) == []
    assert len(winners) == 1
    assert root.listattr("/p") == [("x", "int")]


def test_concurrent_createdir_of_one_path_has_exactly_one_winner(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    winners: list[int] = []

    def work(number: int) -> None:
        try:
            catalogue.session("root").createdir("/race")
            winners.append(number)
        except Exception as exc:
            assert type(exc).__name__ == "DirectoryExists"

    assert _in_threads(work) == []
    assert len(winners) == 1
    assert list(root.dir("/")) == [("/race", "collection")]
    root.addentry("/race/e", {})  # the winner's table exists and is the directory's
