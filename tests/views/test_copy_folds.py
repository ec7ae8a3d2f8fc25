"""The shards' copy folds (``COPYKINDS``, ``COPYSITES``): the catalogue's storage share read
from them equals the warehouse's, with rows folded by the writers, rows written before the
folds (shards without them, then NULL in shards given them), rows folded by ``bk views
fold-copies``, and while that runs beside a writer changing the same files' copies."""

from __future__ import annotations

import threading

import pytest

from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.fold import fold_copies
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, ReplicaKey, ReplicaSpec
from tests.catalogue_bookkeeping.conftest import Pair, fresh_pair
from tests.conftest import BACKENDS
from tests.views.test_views import _shifted

CERN_TAPE = ReplicaKey("CERN", "tape", "")


def _shares_agree(pair: Pair) -> None:
    paths = [DatasetPath()]
    paths += [DatasetPath(site=site) for site in ("CERN", "GRIDKA", "NEW-SITE", "nowhere")]
    paths += [DatasetPath(storage=kind) for kind in ("disk", "tape", "recalled")]
    paths += [DatasetPath(site="CERN", storage="tape"), DatasetPath(quality="OK", site="RAL")]
    for path in paths:
        assert pair.catalogue.storage_share(path) == pair.warehouse.storage_share(path), path


def _session(pair: Pair) -> CatalogueSession:
    return Catalogue(pair.engine).session("root")


def _shards(session: CatalogueSession) -> list[str]:
    return sorted(str(s) for (s,) in session.selectattr([f"{V.ROOTTREE}:SHARD"], ""))


def _unfolded(session: CatalogueSession) -> int:
    total = 0
    for shard in _shards(session):
        if "COPYKINDS" in dict(session.listattr(shard)):
            total += len(list(session.selectattr([f"{shard}:FILE"], f"{shard}:COPYKINDS is null")))
        else:
            total += len(list(session.selectattr([f"{shard}:FILE"], "")))
    return total


def _drop_folds(session: CatalogueSession) -> None:
    """Shards as the views made them before the folds."""
    for shard in _shards(session):
        for name in V.COPY_FOLD_ATTRIBUTES:
            session.removeattr(shard, name, force=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_share_agrees_folded_unfolded_and_after_fold_copies(backend: str) -> None:
    reports = list(generate_reports(40, 3))
    later = _shifted(list(generate_reports(20, 4)), 1)
    with fresh_pair(backend) as pair:
        for writer in (pair.warehouse_writer, pair.catalogue_writer):
            writer.record_batch(reports)
        session = _session(pair)
        try:
            assert _unfolded(session) == 0  # the writer folds what it writes
            _shares_agree(pair)
            _drop_folds(session)
            assert _unfolded(session) == 40
            _shares_agree(pair)  # shards without folds: the site directories are read
            assert check(session) == []
            # A new writer gives the old shards the folds (NULL in the old rows), folds
            # its own rows and those whose copies it changes.
            old = [o.lfn for r in reports for o in r.output_files][:12]
            for writer in (pair.warehouse_writer, type(pair.catalogue_writer)(pair.engine)):
                writer.record_batch(later)
                writer.add_replicas(old[:4], ReplicaSpec("NEW-SITE", "disk"))
                writer.change_replicas(old[4:8], CERN_TAPE, status="lost")
                writer.set_visibility(old[8:10], False)
            assert 0 < _unfolded(session) < 40
            _shares_agree(pair)
            assert check(session) == []
            assert fold_copies(session) > 0
            assert _unfolded(session) == 0
            _shares_agree(pair)
            assert check(session) == []
        finally:
            session.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_fold_copies_beside_a_writer_changing_the_same_copies(backend: str) -> None:
    """fold-copies never writes a fold over the one a concurrent change gave a row: each
    change and the folding of the same files end in the folds of the copies as left."""
    reports = list(generate_reports(60, 5))
    lfns = [o.lfn for r in reports for o in r.output_files]
    rounds = 6
    with fresh_pair(backend) as pair:
        for writer in (pair.warehouse_writer, pair.catalogue_writer):
            writer.record_batch(reports)
        session = _session(pair)
        try:
            _drop_folds(session)
            changer = type(pair.catalogue_writer)(pair.engine)
            changer.add_replicas(lfns[:1], ReplicaSpec("NEW-SITE", "disk"))  # folds back
            errors: list[BaseException] = []
            started = threading.Event()

            def change() -> None:
                try:
                    started.wait(timeout=60)
                    for number in range(rounds):  # bounded: rounds changes, then stop
                        status = "lost" if number % 2 == 0 else "available"
                        changer.change_replicas(lfns[number::rounds], CERN_TAPE, status=status)
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)

            def fold() -> None:
                folding = _session(pair)
                try:
                    started.set()
                    fold_copies(folding)
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    folding.close()

            threads = [threading.Thread(target=change), threading.Thread(target=fold)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors, errors
            pair.warehouse_writer.add_replicas(lfns[:1], ReplicaSpec("NEW-SITE", "disk"))
            for number in range(rounds):
                status = "lost" if number % 2 == 0 else "available"
                pair.warehouse_writer.change_replicas(
                    lfns[number::rounds], CERN_TAPE, status=status
                )
            fold_copies(session)  # whatever the race left unfolded
            assert _unfolded(session) == 0
            assert check(session) == []
            _shares_agree(pair)
        finally:
            session.close()
