"""The AMGA protocol server (a thin asyncio loop around the pure ``protocol`` module)."""

from bookkeeping.amga_adapter.server.app import AmgaServer
from bookkeeping.amga_adapter.server.settings import ServerSettings

__all__ = ["AmgaServer", "ServerSettings"]
