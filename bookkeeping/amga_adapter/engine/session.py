"""A catalogue session: one user, one current directory, at most one open transaction.

Not thread-safe: a server gives each connection a session of its own.

The session is made of explicit components, each given its collaborators when the session
is built (below), so what a call does is read in the service that answers it::

    CatalogueSession ─┬─ core: SessionCore   state; connections and transactions, the
                      │                      schema cache, paths (session_core.py)
                      ├─ log: UpdateLog       replication log (update_log.py)
                      ├─ meta: MetaLog ──→ log  directory metadata in it (replica_meta.py)
                      ├─ constraints ──→ meta   checks of the write paths (constraints.py)
                      ├─ indexes ──────→ meta                            (indexes.py)
                      ├─ acls ─────────→ meta                            (acls.py)
                      ├─ sequences ────→ meta                            (sequences.py)
                      ├─ attributes ─→ constraints, indexes, log        (attributes.py)
                      ├─ entries ────→ attributes, constraints, log     (entries.py)
                      ├─ queries ────→ entries                          (queries.py)
                      ├─ directories → log                              (directories.py)
                      ├─ replay: MetaReplay → constraints, indexes      (replica_meta.py)
                      └─ prepared: PreparedReads             (prepared.py)

Every service holds ``core``; the arrows are the other services it calls. The public
operations (docs/catalogue.md) are the services' own methods, bound to the session here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.acls import Acls
from bookkeeping.amga_adapter.engine.attributes import Attributes
from bookkeeping.amga_adapter.engine.constraints import Constraints
from bookkeeping.amga_adapter.engine.directories import Directories
from bookkeeping.amga_adapter.engine.entries import Entries
from bookkeeping.amga_adapter.engine.indexes import Indexes
from bookkeeping.amga_adapter.engine.permissions import Principal
from bookkeeping.amga_adapter.engine.prepared import PreparedReads
from bookkeeping.amga_adapter.engine.queries import Queries
from bookkeeping.amga_adapter.engine.replica_meta import MetaLog, MetaReplay
from bookkeeping.amga_adapter.engine.sequences import Sequences
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.update_log import UpdateLog

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue


class CatalogueSession:
    """See docs/catalogue.md for the operations."""

    def __init__(self, catalogue: Catalogue, principal: Principal) -> None:
        self.core = core = SessionCore(catalogue, principal)
        self.log = log = UpdateLog(core)
        self.meta = meta = MetaLog(core, log)
        self.constraints = constraints = Constraints(core, meta)
        self.indexes = indexes = Indexes(core, meta)
        self.acls = acls = Acls(core, meta)
        self.sequences = sequences = Sequences(core, meta)
        self.attributes = attributes = Attributes(core, constraints, indexes, log)
        self.entries = entries = Entries(core, attributes, constraints, log)
        self.queries = queries = Queries(core, entries)
        self.directories = directories = Directories(core, log)
        self.replay = replay = MetaReplay(core, constraints, indexes)
        self.catalogue = catalogue
        self.user = core.user
        self.prepared: PreparedReads = core.prepared

        # -- transactions and blocks (session_core.py)
        self.begin = core.begin
        self.commit = core.commit
        self.abort = core.abort
        self.close = core.close
        self.reading = core.reading
        self.single_call = core.single_call
        # -- directories
        self.whoami = directories.whoami
        self.pwd = directories.pwd
        self.cd = directories.cd
        self.createdir = directories.createdir
        self.rmdir = directories.rmdir
        self.dir = directories.dir
        # -- attributes
        self.listattr = attributes.listattr
        self.addattr = attributes.addattr
        self.ensure_attributes = attributes.ensure_attributes
        self.removeattr = attributes.removeattr
        self.clearattr = attributes.clearattr
        # -- entries
        self.addentry = entries.addentry
        self.addentries = entries.addentries
        self.setattr = entries.setattr
        self.rm = entries.rm
        self.getattr = entries.getattr
        self.select_in = entries.select_in
        # -- queries
        self.find = queries.find
        self.selectattr = queries.selectattr
        self.selectattr_union = queries.selectattr_union
        self.select_query = queries.select_query
        self.updateattr = queries.updateattr
        # -- ACLs, ownership and rights
        self.acl_show = acls.acl_show
        self.rights = acls.rights
        self.acl_grant = acls.acl_grant
        self.acl_revoke = acls.acl_revoke
        self.chown = acls.chown
        self.chgrp = acls.chgrp
        self.chmod = acls.chmod
        # -- constraints
        self.constraint_list = constraints.constraint_list
        self.constraint_add_not_null = constraints.constraint_add_not_null
        self.constraint_add_unique = constraints.constraint_add_unique
        self.constraint_add_reference = constraints.constraint_add_reference
        self.constraint_add_check = constraints.constraint_add_check
        self.constraint_drop = constraints.constraint_drop
        # -- indexes
        self.create_index = indexes.create_index
        self.create_indexes = indexes.create_indexes
        self.drop_index = indexes.drop_index
        self.list_indexes = indexes.list_indexes
        # -- sequences
        self.sequence_create = sequences.sequence_create
        self.sequence_next = sequences.sequence_next
        self.sequences_next = sequences.sequences_next
        self.sequence_remove = sequences.sequence_remove
        # -- directory metadata of replicated subtrees (bootstrap; the replay's setters)
        self.directory_metadata = replay.directory_metadata
        self.entry_metadata = replay.entry_metadata
        self.apply_entry_metadata = replay.apply_entry_metadata
        self.apply_metadata = replay.apply_metadata

    @property
    def principal(self) -> Principal:
        return self.core.principal

    @property
    def in_transaction(self) -> bool:
        return self.core.in_transaction

    @property
    def connection_in_transaction(self) -> sa.Connection | None:
        """The connection of the open transaction (``None`` outside one): what must commit
        with the transaction's changes, e.g. an announcement (bookkeeping/announce.py), runs
        on it."""
        return self.core.connection_in_transaction

    def __repr__(self) -> str:
        return f"<CatalogueSession user={self.user!r} cwd={self.core.cwd!r}>"
