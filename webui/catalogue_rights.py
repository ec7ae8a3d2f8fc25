"""What the browsing user may do with a catalogue directory or entry, as the engine decides.

The pages only use this to show or hide forms; every change is still checked by the engine
when it is made. The engine has no session call that answers "which rights has this
session on PATH" yet, so this module asks the engine's own rights model
(``Principal.directory_rights`` and ``Principal.entry_allows``, the functions its checks
use) about the stored description of the directory and the entry's owner and rights.
When the engine gains such a call, ``rights`` becomes one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.catalogue import CatalogueSession

_LETTERS = "rwx"


@dataclass(frozen=True)
class Rights:
    """``rwx`` letters (``-`` for a missing one) on a directory and, for an entry, on it."""

    directory: str
    entry: str | None = None

    @property
    def write(self) -> bool:
        """Changing an entry needs ``w`` on both; changing a directory's schema, its entries
        or its sub-directories needs ``w`` on the directory."""
        return "w" in self.directory and (self.entry is None or "w" in self.entry)

    def as_data(self) -> dict[str, Any]:
        return {"directory": self.directory, "entry": self.entry, "write": self.write}


def rights(session: CatalogueSession, directory: str, entry: str | None = None) -> Rights:
    """The session user's rights on ``directory`` (and on its entry named ``entry``)."""
    from bookkeeping.amga_adapter.directory_info import load_directory

    principal = session.principal
    with session.catalogue.engine.connect() as connection:
        info = load_directory(connection, directory)
        on_directory = principal.directory_rights(info)
        if entry is None:
            return Rights(on_directory)
        table = info.table
        row = connection.execute(
            sa.select(table.c.owner, table.c.permissions, table.c.group_rights).where(
                table.c.name == entry
            )
        ).first()
    if row is None:
        return Rights(on_directory, "---")
    on_entry = "".join(
        letter if principal.entry_allows(info, row.owner, row.permissions, row.group_rights,
                                         letter) else "-"
        for letter in _LETTERS
    )  # fmt: skip
    return Rights(on_directory, on_entry)
