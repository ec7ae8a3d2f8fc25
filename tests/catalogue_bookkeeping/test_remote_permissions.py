"""Permissions still apply over the protocol: the server reads as the client's user, so the
remote bookkeeping sees what that user may see in-process, and nothing more."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import PermissionDenied
from bookkeeping.amga_adapter.engine.permissions import EVERYBODY
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath
from tests.catalogue_bookkeeping.conftest import fresh_pair
from tests.catalogue_bookkeeping.remote import (
    compare,
    describe,
    every_call,
    outcome,
    remote_bookkeeping,
    served,
)
from tests.conftest import BACKENDS

READER, READER_PASSWORD = "reader", "reader-secret"
NOBODY, NOBODY_PASSWORD = "nobody", "nobody-secret"


def _directories(session: object, path: str = "/") -> list[str]:
    found = []
    for child, kind in session.dir(path):  # type: ignore[attr-defined]
        if kind.startswith("collection"):
            found += [child, *_directories(session, child)]
    return found


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_remote_bookkeeping_sees_what_its_user_may_see(backend: str) -> None:
    with fresh_pair(backend) as pair:
        pair.catalogue_writer.record_batch(list(generate_reports(12, 11)))
        catalogue = Catalogue(pair.engine)
        catalogue.add_user("root", READER, password=READER_PASSWORD)
        catalogue.add_user("root", NOBODY, password=NOBODY_PASSWORD)
        root = catalogue.session("root")
        for directory in _directories(root):
            # Nobody reads by default any more; the reader may, but not every entry.
            root.acl_revoke(directory, EVERYBODY, "rwx")
            root.acl_grant(directory, READER, "r")
        root.chmod("/files/1*", "rw-", "---")  # files 1, 10, 11, ...: root's eyes only
        root.chmod("/qualityParams/*", "rw-", "---")  # no quality flag for anybody else
        root.close()

        as_root = CatalogueBookkeeping(pair.engine)
        calls = every_call(as_root)
        with served(pair.engine) as server:
            with remote_bookkeeping(server, READER, READER_PASSWORD) as remote:
                local = CatalogueBookkeeping(pair.engine, user=READER)
                differences = compare(local, remote, calls)
                assert not differences, describe(differences)
                # The rights made a difference: the hidden entries are not there (the
                # views are directories of their own, with their own rights).
                assert as_root.file_by_id(1) is not None and remote.file_by_id(1) is None
                flagged = [r for r in as_root.files(DatasetPath()).files if r.quality]
                assert flagged, "the generated data has quality flags"
                for record in flagged:
                    assert as_root.quality_flags(record.file_id)
                    assert remote.quality_flags(record.file_id) == ()

            with remote_bookkeeping(server, NOBODY, NOBODY_PASSWORD) as remote:
                local = CatalogueBookkeeping(pair.engine, user=NOBODY)
                differences = compare(local, remote, calls)
                assert not differences, describe(differences)
                for call in calls:
                    result = outcome(remote, call)
                    # Nothing is answered: every call that reads is refused.
                    assert result[0] == "error" and issubclass(result[1], PermissionDenied), (
                        call,
                        result,
                    )
