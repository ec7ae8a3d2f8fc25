"""What the browsing user may do with a catalogue directory or entry, as the engine decides
(``CatalogueSession.rights``).

The pages only use this to show or hide forms; every change is still checked by the engine
when it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession


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
    """The session user's rights on ``directory`` (and on its entry named ``entry``, which
    the page has just read, so the engine does not refuse the question)."""
    on_directory = session.rights(directory)
    if entry is None:
        return Rights(on_directory)
    return Rights(on_directory, session.rights(directory.rstrip("/") + "/" + entry))
