"""When a session validates the catalogue's schema cache (``SessionCore.schema``).

The cache is validated once per operation, ``reading()`` block, transaction or
``single_call()`` block: one read of the schema version (``schema_version.py``) before the
first directory is looked up. A prepared read (``prepared.py``) validates in its own
statement instead: it builds the statement with validation ``deferred()``, then reads the
version along with its rows (``validated_by``). When the version moved, the caches were
emptied and the session's principal is loaded again (its groups may have changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue


class SchemaCheck:
    """One session's validation state of the shared schema cache."""

    def __init__(self, catalogue: Catalogue, reload_principal: Callable[[], None]) -> None:
        self._catalogue = catalogue
        self._reload_principal = reload_principal
        self.validated = False  # in the current operation or block
        self._in_call = False  # inside single_call(): validated once for the whole block
        self._deferred = False  # a prepared read validates with its own statement

    def new_operation(self) -> None:
        """An operation starts: validate again, unless inside ``single_call()``."""
        if not self._in_call:
            self.validated = False

    @contextmanager
    def single_call(self) -> Iterator[None]:
        """The operations of the block answer one call of a caller (a bookkeeping call):
        the schema cache is validated once for all of them, not once per operation."""
        if self._in_call:
            yield
            return
        self._in_call, self.validated = True, False
        try:
            yield
        finally:
            self._in_call = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Directories looked up in the block are not validated: the caller reads the
        version with its own statement and reports it to ``validated_by``."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False

    def validate(self, connection: sa.Connection) -> None:
        """Read the schema version, once per operation (see the module docstring)."""
        if self.validated or self._deferred:
            return
        self.validated = True
        if self._catalogue.validate(connection):
            self._reload_principal()

    def validated_by(self, version: int | None) -> None:
        """The version a statement read along with its rows: the validation of this
        operation, made in the same round trip."""
        self.validated = True
        if self._catalogue.accept_version(version):
            self._reload_principal()
