"""A catalogue server reached over the AMGA protocol, as catalogue sessions: the reading
operations of ``CatalogueSession`` with typed values, over the project's ``MDClient``.

``RemoteCatalogue(client).session()`` gives a ``RemoteSession``; the bookkeeping reader runs
on it unchanged (``bookkeeping.amga_adapter.bookkeeping.RemoteCatalogueBookkeeping``).
"""

from bookkeeping.amga_adapter.client.remote.link import RemoteCatalogueUnavailable
from bookkeeping.amga_adapter.client.remote.session import RemoteCatalogue, RemoteSession

__all__ = ["RemoteCatalogue", "RemoteCatalogueUnavailable", "RemoteSession"]
