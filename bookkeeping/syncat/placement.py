"""Where a catalogue copy lives, and the catalogue's rights as POSIX mode bits.

A copy names its storage element and its path there (``Replica.se``/``path``,
docs/storage.md); a copy without them holds no bytes syncat could speak of.
"""

from __future__ import annotations

from bookkeeping.writer.changes import Copy


def on_storage(copy: Copy) -> bool:
    return bool(copy.se and copy.path)


def mode_of(permissions: str, group_rights: str | None) -> int:
    """POSIX mode bits from the catalogue's rights: the owner's for the user bits, everybody
    else's (group rights) for the group and other bits; ``x`` is not carried to files."""

    def bits(letters: str) -> int:
        return (4 if "r" in letters else 0) | (2 if "w" in letters else 0)

    other = bits(group_rights or "")
    return bits(permissions) << 6 | other << 3 | other
