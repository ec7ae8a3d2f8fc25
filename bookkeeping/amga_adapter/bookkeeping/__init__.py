"""The bookkeeping on the metadata catalogue (seed 001's AMGA-Bookkeeping).

``CatalogueBookkeeping(engine)`` reads (``bookkeeping.interface.Bookkeeping``) and
``CatalogueWriter(engine)`` records job reports (``bookkeeping.interface.BookkeepingWriter``),
both through catalogue sessions; ``RemoteCatalogueBookkeeping(client)`` is the same reader
over the AMGA protocol (an ``MDClient`` of a running ``bk amga serve``). The directory
layout is in ``layout``.

It builds on the engine (in-process sessions) or the client (``remote``), never on SQL of
its own.
"""

from bookkeeping.amga_adapter.bookkeeping.local import CatalogueBookkeeping
from bookkeeping.amga_adapter.bookkeeping.remote import RemoteCatalogueBookkeeping
from bookkeeping.amga_adapter.bookkeeping.writer import CatalogueWriter

__all__ = ["CatalogueBookkeeping", "CatalogueWriter", "RemoteCatalogueBookkeeping"]
