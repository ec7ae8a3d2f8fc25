from __future__ import annotations

import threading

import pytest

from bookkeeping.amga_adapter.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.errors import InvalidValue, NoSuchSequence, SequenceExists


def test_sequence_counts_from_start_by_increment(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s", increment=5, start=10)
    assert [root.sequence_next("/s/ids") for _ in range(3)] == [10, 15, 20]
    with pytest.raises(SequenceExists):
        root.sequence_create("ids", "/s")
    root.sequence_remove("/s/ids")
    with pytest.raises(NoSuchSequence):
        root.sequence_next("/s/ids")
    with pytest.raises(NoSuchSequence):
        root.sequence_remove("/s/ids")


def test_sequence_values_are_taken_back_by_abort(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s")
    root.begin()
    assert root.sequence_next("/s/ids") == 1
    root.abort()
    assert root.sequence_next("/s/ids") == 1


def test_sequence_is_atomic_under_concurrency(catalogue: Catalogue, root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s")
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        session = catalogue.session("root")
        try:
            for _ in range(25):
                value = session.sequence_next("/s/ids")
                with lock:
                    taken.append(value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 101))


def test_sequence_removed_with_its_directory(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s")
    root.rmdir("/s")
    root.createdir("/s")
    with pytest.raises(NoSuchSequence):
        root.sequence_next("/s/ids")


def test_a_block_of_values_is_reserved_at_once(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s", increment=5, start=10)
    assert root.sequence_next("/s/ids", count=3) == 10  # 10, 15, 20 are ours
    assert root.sequence_next("/s/ids") == 25
    assert root.sequence_next("/s/ids", count=1) == 30


def test_several_sequences_are_reserved_in_one_transaction(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("a", "/s")
    root.sequence_create("b", "/s", start=100)
    assert root.sequences_next({"/s/b": 10, "/s/a": 2}) == {"/s/b": 100, "/s/a": 1}
    with pytest.raises(NoSuchSequence):
        root.sequences_next({"/s/a": 5, "/s/missing": 1})
    # The failed call reserved nothing, not even from the sequence that exists.
    assert root.sequences_next({"/s/a": 1, "/s/b": 1}) == {"/s/a": 3, "/s/b": 110}


@pytest.mark.parametrize("count", [0, -3, True, 2.5, "4", None, 10_000_001])
def test_a_bad_block_size_is_refused_and_changes_nothing(
    root: CatalogueSession, count: object
) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s")
    with pytest.raises(InvalidValue, match="number of values to reserve"):
        root.sequence_next("/s/ids", count=count)  # type: ignore[arg-type]
    assert root.sequence_next("/s/ids") == 1


def test_a_block_beyond_bigint_is_refused_and_changes_nothing(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s", increment=2**61, start=2**62)
    with pytest.raises(InvalidValue, match="bigint range"):
        root.sequence_next("/s/ids", count=2)
    assert root.sequence_next("/s/ids") == 2**62


def test_blocks_never_overlap_under_concurrency(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/s")
    root.sequence_create("ids", "/s")
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(size: int) -> None:
        session = catalogue.session("root")
        try:
            for _ in range(10):
                first = session.sequence_next("/s/ids", count=size)
                with lock:
                    taken.extend(range(first, first + size))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(size,)) for size in (1, 3, 7, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 10 * (1 + 3 + 7 + 20) + 1))
