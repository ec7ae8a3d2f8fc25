"""What the query compiler needs from the catalogue: directories resolved to tables.

The catalogue engine implements these; the compiler never sees paths, table names or
permissions otherwise.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa


class ResolvedDirectory(Protocol):
    @property
    def path(self) -> str:
        """Absolute, normalised: two spellings of one directory share it."""
        ...

    def new_alias(self) -> sa.FromClause:
        """A fresh alias of the directory's table (an ``Alias`` of a ``Table``:
        compile_update updates ``alias.element``)."""
        ...

    def column(self, source: sa.FromClause, attribute: str) -> sa.ColumnElement[Any]:
        """The column of ``attribute`` (as users write it; ``"FILE"`` is the entry name) in
        ``source`` (an alias from new_alias, or the table itself); raises NoSuchAttribute."""
        ...

    def read_filter(self, source: sa.FromClause) -> sa.ColumnElement[bool] | None:
        """The clause selecting the entries of ``source`` the user may read; None: all."""
        ...


class Resolver(Protocol):
    def directory(self, raw_path: str) -> ResolvedDirectory:
        """The directory written ``raw_path`` ('/jobs', 'sub/dir', '.', '..'), resolved
        against the session's current directory; raises NoSuchDirectory."""
        ...
