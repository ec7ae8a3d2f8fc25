from __future__ import annotations

import threading

import oracledb
import pytest
import sqlalchemy as sa
from oracledb import errors as oracle_errors

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.errors import InvalidValue, NoSuchSequence, SequenceExists
from bookkeeping.amga_adapter.engine.sequences import error_code, is_overflow


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


def test_several_blocks_one_beyond_bigint_are_refused_and_change_nothing(
    root: CatalogueSession,
) -> None:
    root.createdir("/s")
    root.sequence_create("a", "/s")
    root.sequence_create("big", "/s", increment=2**61, start=2**62)
    with pytest.raises(InvalidValue, match="bigint range"):
        root.sequences_next({"/s/a": 3, "/s/big": 2})
    assert root.sequences_next({"/s/a": 1, "/s/big": 1}) == {"/s/a": 1, "/s/big": 2**62}


def test_writers_reserving_overlapping_sequences_never_deadlock_or_overlap(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    """Writers reserve blocks of the same three sequences, each naming them in another
    order and set (the production writer's jobs, files and quality ids): every value is
    handed out once and no reservation fails on a lock cycle."""
    root.createdir("/s")
    names = ["a", "b", "c"]
    for name in names:
        root.sequence_create(name, "/s")
    taken: dict[str, list[int]] = {name: [] for name in names}
    lock = threading.Lock()
    errors: list[BaseException] = []
    orders = [["a", "b", "c"], ["c", "b", "a"], ["b", "c"], ["c", "a"]]

    def work(order: list[str], size: int) -> None:
        session = catalogue.session("root")
        try:
            for _ in range(10):
                firsts = session.sequences_next({f"/s/{name}": size for name in order})
                with lock:
                    for name in order:
                        taken[name].extend(range(firsts[f"/s/{name}"], firsts[f"/s/{name}"] + size))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(order, size))
        for order, size in zip(orders, (1, 2, 3, 4), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name in names:
        expected = sum(
            10 * size for order, size in zip(orders, (1, 2, 3, 4), strict=True) if name in order
        )
        assert sorted(taken[name]) == list(range(1, expected + 1))


OVERFLOWING_SQL = {
    "postgresql": "SELECT CAST(9223372036854775807 AS BIGINT) + 1",
    "mariadb": "SELECT CAST(9223372036854775807 AS SIGNED) + 1",
}
OTHER_ERROR_SQL = {
    # a data error of another kind (SQLSTATE 22P02), and a missing table (1146)
    "postgresql": "SELECT CAST('one' AS INTEGER)",
    "mariadb": "SELECT * FROM no_such_table",
}


def test_overflow_is_recognised_by_the_database_error_code(catalogue: Catalogue) -> None:
    backend = catalogue.backend
    if backend not in OVERFLOWING_SQL:
        pytest.skip("SQLite integers overflow to REAL without an error")
    caught = []
    for sql in (OVERFLOWING_SQL[backend], OTHER_ERROR_SQL[backend]):
        with catalogue.engine.connect() as connection:
            with pytest.raises(sa.exc.DBAPIError) as error:
                connection.exec_driver_sql(sql)
        caught.append(error.value)
    overflow, other = caught
    assert error_code(backend, overflow) == {"postgresql": "22003", "mariadb": 1690}[backend]
    assert is_overflow(backend, overflow)
    assert not is_overflow(backend, other)


def _oracle_error(code: int, message: str) -> sa.exc.DBAPIError:
    orig = oracledb.DatabaseError(oracle_errors._Error(message, code=code))
    return sa.exc.DatabaseError("UPDATE cat_sequences ...", {}, orig)


def test_oracle_overflow_is_recognised_by_its_ora_number_not_its_text() -> None:
    assert is_overflow("oracle", _oracle_error(1426, "ORA-01426: numeric overflow"))
    # the same text with another number, and the number on another back-end, are not
    assert not is_overflow("oracle", _oracle_error(1722, "ORA-01426: numeric overflow"))
    assert not is_overflow("mariadb", _oracle_error(1426, "ORA-01426: numeric overflow"))
