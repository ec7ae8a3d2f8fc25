from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    EntryExists,
    SchemaChangeInTransaction,
    TransactionError,
)


@pytest.fixture
def jobs(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/jobs")
    root.addattr("/jobs", "n", "int")
    return root


def test_commit_makes_every_operation_visible(jobs: CatalogueSession, catalogue: Catalogue) -> None:
    other = catalogue.session("root")
    jobs.begin()
    jobs.addentry("/jobs/a", {"n": 1})
    jobs.setattr("/jobs/a", {"n": 2})
    jobs.addentries("/jobs", [("b", {"n": 3})])
    assert list(jobs.getattr("/jobs/a", ["n"])) == [("a", [2])]  # own writes are visible
    jobs.commit()
    assert list(other.getattr("/jobs/*", ["n"])) == [("a", [2]), ("b", [3])]


def test_abort_undoes_every_operation(jobs: CatalogueSession) -> None:
    jobs.addentry("/jobs/keep", {"n": 1})
    jobs.begin()
    jobs.addentry("/jobs/a", {"n": 1})
    jobs.rm("/jobs/keep")
    jobs.abort()
    assert list(jobs.dir("/jobs")) == [("/jobs/keep", "entry")]
    assert not jobs.in_transaction


def test_a_failed_operation_leaves_the_transaction_usable(jobs: CatalogueSession) -> None:
    jobs.begin()
    jobs.addentry("/jobs/a", {"n": 1})
    with pytest.raises(EntryExists):
        jobs.addentry("/jobs/a", {"n": 2})
    jobs.addentry("/jobs/b", {"n": 2})
    jobs.commit()
    assert [p for p, _ in jobs.dir("/jobs")] == ["/jobs/a", "/jobs/b"]


def test_begin_twice_and_commit_without_begin_fail(jobs: CatalogueSession) -> None:
    with pytest.raises(TransactionError):
        jobs.commit()
    with pytest.raises(TransactionError):
        jobs.abort()
    jobs.begin()
    with pytest.raises(TransactionError):
        jobs.begin()
    jobs.abort()


def test_schema_changes_in_a_transaction(jobs: CatalogueSession, catalogue: Catalogue) -> None:
    jobs.begin()
    if catalogue.backend == "mariadb":
        with pytest.raises(SchemaChangeInTransaction):
            jobs.addentry("/jobs/a", {"new": "x"}, extend=True)
        with pytest.raises(SchemaChangeInTransaction):
            jobs.createdir("/other")
        jobs.abort()
        return
    jobs.createdir("/other")
    jobs.addentry("/jobs/a", {"new": "x"}, extend=True)
    assert ("new", "varchar(255)") in jobs.listattr("/jobs")
    jobs.abort()
    assert jobs.listattr("/jobs") == [("n", "int")]
    assert list(jobs.dir("/")) == [("/jobs", "collection")]
    jobs.addentry("/jobs/a", {"new": "y"}, extend=True)  # the cache forgot the aborted column
    assert list(jobs.getattr("/jobs/a", ["new"])) == [("a", ["y"])]


def test_close_aborts_an_open_transaction(jobs: CatalogueSession, catalogue: Catalogue) -> None:
    jobs.begin()
    jobs.addentry("/jobs/a", {})
    jobs.close()
    assert list(catalogue.session("root").dir("/jobs")) == []


def test_ensuring_existing_attributes_in_a_transaction_works_everywhere(
    jobs: CatalogueSession,
) -> None:
    jobs.ensure_attributes("/jobs", {"n": None, "m": "int"})
    jobs.begin()
    assert jobs.ensure_attributes("/jobs", {"n": None, "m": None}) == []
    jobs.addentry("/jobs/a", {"n": 1, "m": 2}, extend=True)
    jobs.commit()
    assert list(jobs.getattr("/jobs/a", ["m"])) == [("a", [2])]
