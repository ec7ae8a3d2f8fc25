"""The layout check of the catalogue bookkeeping's readers, which never lay anything out.

A laid-out catalogue costs one listing of ``/`` (until it is seen laid out) and no DDL. A
catalogue no writer has recorded into yet has no layout: the writers (``CatalogueWriter``,
``bk views rebuild``) make it, a reader must not (issue 22: no DDL outside ``bk init``,
migrations and explicit catalogue operations). Such a catalogue answers like an empty
bookkeeping, so that the web pages and the CLI show empty answers rather than errors: its
reads go to ``EMPTY``, a laid-out empty catalogue of this process's own (SQLite in a
temporary directory, made on first need, removed at exit), which answers every call exactly
as an empty laid-out catalogue does without a second, hand-written set of empty answers.

A catalogue with the bookkeeping's directories but without the views' (written with
``views=False``) is refused for a reader with views: it holds files the views do not show.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.sessions import LayoutSession
from bookkeeping.amga_adapter.bookkeeping.views.layout import DELTAS, ROOTTREE, SHARD_CLAIMS
from bookkeeping.amga_adapter.bookkeeping.views.maintain import ensure_view_layout
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import PermissionDenied
from bookkeeping.engines import create_engine
from bookkeeping.errors import SchemaNotInitialised
from bookkeeping.metadata import metadata

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.session import CatalogueSession

VIEW_DIRECTORIES = (ROOTTREE, DELTAS, SHARD_CLAIMS)  # what ensure_view_layout makes
EMPTY_USER = "root"  # the empty catalogue's one user


def _names(paths: Iterable[str]) -> set[str]:
    return {path.lstrip("/") for path in paths}


def expected_directories(*, views: bool) -> set[str]:
    """The top-level directories every read expects."""
    wanted = _names(L.BASE_ATTRIBUTES)
    if views:
        wanted |= _names(VIEW_DIRECTORIES)
    return wanted


def layout_present(session: LayoutSession, *, views: bool) -> bool:
    """Whether the bookkeeping's directories are there (one listing of ``/``): False when
    none of the bookkeeping's own is; SchemaNotInitialised when a reader with views finds
    the bookkeeping's directories without the views'."""
    try:
        present = {
            path.rstrip("/").rsplit("/", 1)[-1]
            for path, kind in session.dir("/")
            if kind == "collection"
        }
    except PermissionDenied:
        return True  # what it may not read, its queries refuse
    if expected_directories(views=views) <= present:
        return True
    if expected_directories(views=False) <= present:
        raise SchemaNotInitialised(
            "the catalogue has the bookkeeping's directories but not its views: run"
            " `bk views rebuild`, or read it without views"
        )
    return False


class EmptyCatalogue:
    """A laid-out catalogue (with views) that stays empty: ``session()`` of it answers a
    reader over a catalogue without layout. Made on first use, once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._pid = 0

    def session(self) -> CatalogueSession:
        with self._lock:
            # A forked child (a web server's worker) makes its own: its parent's engine
            # and temporary directory are the parent's.
            if self._catalogue is None or self._pid != os.getpid():
                self._catalogue, self._pid = self._make(), os.getpid()
            return self._catalogue.session(EMPTY_USER)

    @staticmethod
    def _make() -> Catalogue:
        directory = Path(tempfile.mkdtemp(prefix="bk-empty-catalogue-"))
        engine = create_engine(f"sqlite:///{directory / 'empty.sqlite'}", pool_size=2)

        owner = os.getpid()

        def remove() -> None:
            if os.getpid() == owner:  # not in a forked child, which inherits the hook
                engine.dispose()
                shutil.rmtree(directory, ignore_errors=True)

        atexit.register(remove)
        # Every static table this process knows (those the engine reads among them: it
        # imported their modules), with "/" (root_directory's listener).
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(st.users.insert().values(name=EMPTY_USER, password_hash=None))
        catalogue = Catalogue(engine)
        session = catalogue.session(EMPTY_USER)
        try:
            L.ensure_layout(session)
            ensure_view_layout(session)
        finally:
            session.close()
        return catalogue


EMPTY = EmptyCatalogue()
