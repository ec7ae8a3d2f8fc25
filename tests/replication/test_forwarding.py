"""A slave catalogue's server forwarding writes under its slave subtree to the master."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import CommandException, MDClient
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.replication.errors import MountConfigError
from bookkeeping.replication.mounts import MountingCatalogue, parse_mounts
from bookkeeping.replication.subtrees import SubtreeReplica
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from tests.protocol.conftest import ALICE_PASSWORD, ROOT_PASSWORD, Site, second_catalogue_server
from tests.protocol.serving import running_server


@contextmanager
def _slave_engine() -> Iterator[sa.Engine]:
    with scratch_database("sqlite") as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(
                users.insert(), {"name": "root", "password_hash": hash_password(ROOT_PASSWORD)}
            )
        Catalogue(engine).add_user("root", "alice", password=ALICE_PASSWORD)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def master() -> Iterator[Site]:
    with second_catalogue_server() as site:
        with MDClient("127.0.0.1", site.server.port, "root", ROOT_PASSWORD) as root:
            root.createDir("/evtTypes")
            root.addAttr("/evtTypes", "Desc", "varchar(64)")
            root.aclAdd("/evtTypes", "alice", "rwx")
            root.addEntry("/evtTypes/1", ["Desc"], ["minbias"])
        yield site


def test_writes_to_a_slave_subtree_go_to_the_master_as_the_caller(master: Site) -> None:
    with _slave_engine() as slave:
        replica = SubtreeReplica(master.engine, slave, "/evtTypes")
        replica.bootstrap()
        mounts = parse_mounts([], [f"/evtTypes={master.url}"])
        with running_server(MountingCatalogue(Catalogue(slave), mounts)) as site_server:
            with MDClient("127.0.0.1", site_server.port, "alice", ALICE_PASSWORD) as alice:
                assert alice.getattr("/evtTypes/1", ["Desc"], sync=True) == [("1", ["minbias"])]
                alice.addEntry("/evtTypes/2", ["Desc"], ["b-physics"])
                with master.engine.connect() as connection:
                    table = load_directory(connection, "/evtTypes").table
                    owner = connection.scalar(sa.select(table.c.owner).where(table.c.name == "2"))
                assert owner == "alice"  # written at the master, by her
                # Reads stay local: the slave has it once it has replayed the log.
                with pytest.raises(CommandException, match="no such entry"):
                    alice.getattr("/evtTypes/2", ["Desc"], sync=True)
                assert replica.catch_up() == 1
                assert alice.getattr("/evtTypes/2", ["Desc"], sync=True) == [("2", ["b-physics"])]


def test_without_forwarding_a_slave_server_refuses_the_write(master: Site) -> None:
    with _slave_engine() as slave:
        SubtreeReplica(master.engine, slave, "/evtTypes").bootstrap()
        with running_server(Catalogue(slave)) as site_server:
            with MDClient("127.0.0.1", site_server.port, "alice", ALICE_PASSWORD) as alice:
                with pytest.raises(CommandException, match="read-only replica"):
                    alice.addEntry("/evtTypes/2", ["Desc"], ["b-physics"])


def test_a_path_both_mounted_and_forwarded_is_refused() -> None:
    with pytest.raises(MountConfigError, match="both mounted and forwarded"):
        parse_mounts(["/a=amga://h"], ["/a=amga://g"])
