"""The catalogue bookkeeping over the AMGA protocol: the same reader as
``CatalogueBookkeeping``, every catalogue operation sent to a running ``bk amga serve``.

    client = MDClient("bk.example.org", 8822, "alice", "secret")
    bookkeeping = RemoteCatalogueBookkeeping(client)
    bookkeeping.files(DatasetPath(config_name="LHCb"), limit=50)

Answers equal the in-process implementation's (``==``), NULLs included (see
``bookkeeping.amga_adapter.client.remote.session`` for how the wire's text is read back). The
server checks the client user's rights, as the engine does in-process. A lost connection
raises ``RemoteCatalogueUnavailable`` (a ``DatabaseUnavailable``); the client reconnects by
itself on the next call.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from bookkeeping.amga_adapter.bookkeeping.reader import CatalogueReader
from bookkeeping.amga_adapter.bookkeeping.sessions import LayoutSession
from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.client.remote import RemoteCatalogue


class RemoteSessions:
    """Sessions over the AMGA protocol (a ``SessionSource``): each operation is a command
    of its own, so nothing groups a call's operations."""

    def __init__(self, remote: RemoteCatalogue) -> None:
        self.remote = remote

    def open(self) -> LayoutSession:
        return self.remote.session()

    def one_call(self, session: LayoutSession) -> AbstractContextManager[None]:
        return nullcontext()

    def bounded_reads(self, session: LayoutSession) -> AbstractContextManager[None]:
        return nullcontext()


class RemoteCatalogueBookkeeping(CatalogueReader):
    """``bookkeeping.interface.Bookkeeping`` read through ``client`` (connected or not; it
    connects on first use). One client carries one command at a time: calls from several
    threads are served one after another (a result being read is kept in memory when
    another call needs the connection)."""

    def __init__(self, client: MDClient, *, views: bool = True, schema_ttl: float = 30.0):
        """``schema_ttl``: seconds attribute types are trusted before ``listattr`` again."""
        self.client = client
        self.remote = RemoteCatalogue(client, schema_ttl=schema_ttl)
        super().__init__(RemoteSessions(self.remote), views=views)

    def close(self) -> None:
        self.client.close()
