"""Concurrent writers on one database: threads, each with its own session."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables
from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.directory_info import table_name
from bookkeeping.engines import backend_name, create_engine

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


ROUNDS = 4
TYPES = ["int", None, "varchar(12)", "date", "double", "text"]


def test_two_catalogues_ensuring_overlapping_attributes_at_once(
    engine: sa.Engine, root: CatalogueSession
) -> None:
    """Two Catalogue objects (two engines, two schema caches: two processes, as far as the
    engine can tell) call ensure_attributes on one directory at once, with overlapping sets:
    every call succeeds, each attribute is created once, with one column, and both see all."""
    root.createdir("/p")
    url = engine.url.render_as_string(hide_password=False)
    engines = [create_engine(url) for _ in range(2)]
    try:
        catalogues = [Catalogue(e) for e in engines]
        for round_ in range(ROUNDS):
            names = [f"R{round_}_{k}" for k in range(THREADS + 2)]
            added: dict[int, list[str]] = {}

            def work(number: int, names: list[str] = names, added: dict = added) -> None:  # type: ignore[type-arg]
                session = catalogues[number % 2].session("root")
                wanted = {n: TYPES[names.index(n)] for n in names[number : number + 3]}
                added[number] = session.ensure_attributes("/p", wanted)

            assert _in_threads(work) == []
            created = [name for number in sorted(added) for name in added[number]]
            assert sorted(created) == sorted(names)  # each attribute created exactly once
        expected = [
            (f"R{r}_{k}", "varchar(255)" if TYPES[k] is None else TYPES[k])
            for r in range(ROUNDS)
            for k in range(THREADS + 2)
        ]
        for catalogue in catalogues:
            assert sorted(catalogue.session("root").listattr("/p")) == expected
        columns = sa.inspect(engine).get_columns(_table_of(root, "/p"))
        assert len(columns) == 5 + len(expected)  # the system columns and one per attribute
        # Each catalogue writes every attribute at once, its cache notwithstanding.
        for number, catalogue in enumerate(catalogues):
            values = {name: "1" for name, type_ in expected if type_ != "date"}
            catalogue.session("root").addentry(f"/p/e{number}", values)
        assert len(list(root.dir("/p"))) == 2
    finally:
        for e in engines:
            e.dispose()


def _table_of(session: CatalogueSession, path: str) -> str:
    directories = system_tables.directories
    with session.catalogue.engine.connect() as connection:
        directory_id = connection.scalar(
            sa.select(directories.c.id).where(directories.c.path == path)
        )
    return table_name(directory_id)


@pytest.mark.parametrize("blocked", ["claim", "column"])
def test_adding_attributes_tries_again_after_a_lock_timeout(
    engine: sa.Engine, root: CatalogueSession, blocked: str
) -> None:
    """A writer's statement the database fails for a lock it could not get (PostgreSQL's
    lock timeout; a deadlock victim is failed the same way) is tried again: the call
    succeeds and reports each name it added once. Another transaction holds a lock that
    blocks the attribute rows' insert ("claim") or the directory table's ALTER ("column")
    until the first such failure."""
    if backend_name(engine) != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout gives a bounded lock wait to provoke")
    root.createdir("/p")
    root.addattr("/p", "existing", "int")
    url = engine.url.render_as_string(hide_password=False)
    impatient = create_engine(url, lock_timeout_s=1)
    failures: list[str] = []
    failed = threading.Event()

    @sa.event.listens_for(impatient, "handle_error")
    def note(context: sa.engine.ExceptionContext) -> None:
        failures.append(str(context.original_exception))
        failed.set()

    wanted = {"a": "int", "b": None, "c": "double"}
    outcome: list[object] = []
    try:
        catalogue = Catalogue(impatient)
        session = catalogue.session("root")
        session.listattr("/p")  # the directory cached before the lock is taken
        table = system_tables.attributes.name if blocked == "claim" else _table_of(root, "/p")
        with engine.connect() as holder:
            holder.execute(sa.text(f'LOCK TABLE "{table}" IN SHARE MODE'))
            worker = threading.Thread(
                target=lambda: outcome.append(_outcome(session.ensure_attributes, "/p", wanted))
            )
            worker.start()
            assert failed.wait(30), "the blocked statement never timed out"
            holder.rollback()  # the lock goes; the next attempt gets through
        worker.join(60)
        assert not worker.is_alive()
        assert any("lock timeout" in failure for failure in failures), failures
        assert outcome == [["a", "b", "c"]]
        assert sorted(root.listattr("/p")) == [
            ("a", "int"),
            ("b", "varchar(255)"),
            ("c", "double"),
            ("existing", "int"),
        ]
        columns = sa.inspect(engine).get_columns(_table_of(root, "/p"))
        assert len(columns) == 5 + 4  # no column left behind by the failed attempt
        root.addentry("/p/e", {"a": "1", "b": "x", "c": "2.5", "existing": "3"})
    finally:
        impatient.dispose()


def _outcome(call: Callable[..., object], *args: object) -> object:
    try:
        return call(*args)
    except Exception as exc:  # the test compares it with the expected names
        return exc
