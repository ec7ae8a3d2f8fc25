"""A catalogue session: one user, one current directory, at most one open transaction.

Not thread-safe: a server gives each connection a session of its own. The operations live
in one module per concern; this class only puts them together.
"""

from __future__ import annotations

from bookkeeping.amga_adapter.acls import AclOps
from bookkeeping.amga_adapter.constraints import ConstraintOps
from bookkeeping.amga_adapter.directories import DirectoryOps
from bookkeeping.amga_adapter.indexes import IndexOps
from bookkeeping.amga_adapter.sequences import SequenceOps


class CatalogueSession(ConstraintOps, DirectoryOps, AclOps, SequenceOps, IndexOps):
    """See docs/catalogue.md for the operations."""

    def __repr__(self) -> str:
        return f"<CatalogueSession user={self.user!r} cwd={self._cwd!r}>"
