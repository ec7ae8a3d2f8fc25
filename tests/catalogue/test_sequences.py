from __future__ import annotations

import threading

import pytest

from bookkeeping.amga_adapter.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.errors import NoSuchSequence, SequenceExists


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
