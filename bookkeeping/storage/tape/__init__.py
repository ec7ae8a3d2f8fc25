"""The emulated tape library (``tape:///path?drives=N&...``): see docs/storage.md."""

from bookkeeping.storage.tape.config import TapeConfig, parse_tape_url
from bookkeeping.storage.tape.library import TapeElement
from bookkeeping.storage.tape.state import CartridgeStatus, DriveStatus, TapeFile, TapeStatus

__all__ = [
    "CartridgeStatus",
    "DriveStatus",
    "TapeConfig",
    "TapeElement",
    "TapeFile",
    "TapeStatus",
    "parse_tape_url",
]
