"""The AMGA protocol server: a thin asyncio loop around the pure ``protocol`` module that
turns requests into calls on the engine's ``CatalogueSession`` (connections, dispatch,
uploads held until commit, resumable sessions, command logs)."""

from bookkeeping.amga_adapter.server.app import AmgaServer
from bookkeeping.amga_adapter.server.settings import ServerSettings

__all__ = ["AmgaServer", "ServerSettings"]
