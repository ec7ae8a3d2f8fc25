"""Server-side federation: a server serving subtrees mounted from other live servers, used
through the AMGA protocol by an unchanged client, as the caller."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import CommandException, MDClient
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.local_servers import free_port
from bookkeeping.replication.errors import MountConfigError
from bookkeeping.replication.mounts import MountingCatalogue, parse_mounts
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from tests.protocol.conftest import ALICE_PASSWORD, ROOT_PASSWORD, Site, second_catalogue_server
from tests.protocol.serving import RunningServer, running_server


@dataclass
class Federation:
    front: RunningServer  # the server clients talk to
    front_engine: sa.Engine
    remote: Site  # /remote lives here
    other: Site  # and here too (a mount on two servers)

    def client(self, user: str = "alice") -> MDClient:
        password = ALICE_PASSWORD if user == "alice" else ROOT_PASSWORD
        return MDClient("127.0.0.1", self.front.port, user, password)


@contextmanager
def _front(mounts: list[str]) -> Iterator[tuple[RunningServer, sa.Engine]]:
    with scratch_database("sqlite") as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(
                users.insert(), {"name": "root", "password_hash": hash_password(ROOT_PASSWORD)}
            )
        catalogue = Catalogue(engine)
        catalogue.add_user("root", "alice", password=ALICE_PASSWORD)
        try:
            with running_server(MountingCatalogue(catalogue, parse_mounts(mounts))) as server:
                yield server, engine
        finally:
            engine.dispose()


def _remote_directory(site: Site, runs: list[int]) -> None:
    with MDClient("127.0.0.1", site.server.port, "root", ROOT_PASSWORD) as root:
        root.createDir("/remote")
        root.addAttr("/remote", "run", "int")
        root.aclAdd("/remote", "alice", "rwx")
        for run in runs:
            root.addEntry(f"/remote/{site.server.port}-{run}", ["run"], [run])


@pytest.fixture
def federation() -> Iterator[Federation]:
    with second_catalogue_server() as remote, second_catalogue_server() as other:
        _remote_directory(remote, [1, 2])
        _remote_directory(other, [3])
        mounts = [
            f"/remote={remote.url}/remote",
            f"/remote={other.url}",
            "/down=amga://127.0.0.1:1",
        ]
        with _front(mounts) as (front, engine):
            with MDClient("127.0.0.1", front.port, "root", ROOT_PASSWORD) as root:
                root.createDir("/local")
                root.addAttr("/local", "run", "int")
                root.aclAdd("/local", "alice", "rwx")
                root.addEntry("/local/l1", ["run"], [10])
            yield Federation(front, engine, remote, other)


def test_a_mounted_subtree_lists_and_reads_as_if_local(federation: Federation) -> None:
    r, o = federation.remote.server.port, federation.other.server.port
    with federation.client() as alice:
        assert [name for name, _ in alice.listEntries("/", sync=True)] == [
            "/down",
            "/local",
            "/remote",
        ]
        listed = [name for name, _ in alice.listEntries("/remote", sync=True)]
        assert listed == [f"/remote/{r}-1", f"/remote/{r}-2", f"/remote/{o}-3"]  # in order
        assert alice.listAttr("/remote") == (["run"], ["int"])
        assert alice.getattr(f"/remote/{r}-2", ["run"], sync=True) == [(f"{r}-2", ["2"])]
        alice.cd("/remote")
        assert alice.pwd() == "/remote"
        # A selectattr over the mount: each server's rows, merged in mount order.
        assert alice.selectAttr(["run"], "run > 1", sync=True) == [["2"], ["3"]]
        assert alice.find("/remote/*", "run < 3", sync=True) == [
            f"/remote/{r}-1",
            f"/remote/{r}-2",
        ]
        alice.cd("/local")
        assert alice.selectAttr(["run"], "", sync=True) == [["10"]]


def test_entries_written_through_a_mount_belong_to_their_creator(
    federation: Federation,
) -> None:
    with federation.client() as alice:
        alice.addEntry("/remote/mine", ["run"], [7])
        alice.setAttr("/remote/mine", ["run"], [8])
        assert alice.getattr("/remote/mine", ["run"], sync=True) == [("mine", ["8"])]
    remote = federation.remote.engine
    with remote.connect() as connection:
        table = load_directory(connection, "/remote").table
        row = connection.execute(sa.select(table.c.owner).where(table.c.name == "mine")).one()
    assert row.owner == "alice"  # at the remote server, not the federating server's user
    with federation.client() as alice:
        alice.rm("/remote/mine")
        assert [n for n, _ in alice.getattr("/remote/*", ["run"], sync=True)] == [
            f"{federation.remote.server.port}-1",
            f"{federation.remote.server.port}-2",
            f"{federation.other.server.port}-3",
        ]


def test_the_remote_server_authenticates_the_caller_not_the_front(
    federation: Federation,
) -> None:
    # carol exists at the front server only: the remote server does not know her.
    with MDClient("127.0.0.1", federation.front.port, "root", ROOT_PASSWORD) as root:
        root.execute("whoami")
    Catalogue(federation.front_engine).add_user("root", "carol", password="carol-pw")
    with MDClient("127.0.0.1", federation.front.port, "carol", "carol-pw") as carol:
        assert carol.listAttr("/local") == (["run"], ["int"])
        with pytest.raises(CommandException, match="authentication failed for user 'carol'"):
            carol.listEntries("/remote", sync=True)


def test_a_down_mount_fails_only_its_own_part(federation: Federation) -> None:
    with federation.client() as alice:
        with pytest.raises(
            CommandException,
            match="/down is mounted from amga://127.0.0.1:1, which cannot be reached",
        ):
            alice.listEntries("/down", sync=True)
        # The rest of the namespace is unaffected, on the same connection.
        assert alice.getattr("/local/l1", ["run"], sync=True) == [("l1", ["10"])]


def test_a_query_joining_a_mount_and_local_directories_is_refused(
    federation: Federation,
) -> None:
    with federation.client() as alice:
        with pytest.raises(CommandException, match="joins directories on different servers"):
            alice.selectAttr(["/local:run", "/remote:run"], "/local:run = /remote:run", sync=True)


def test_mount_specifications_are_checked() -> None:
    assert parse_mounts(["/a=amga://h:8822/a", "/a=amga://g"])[0].urls == (
        "amga://h:8822",
        "amga://g",
    )
    [moved] = parse_mounts(["/a=amga://h:8822/data", "/a=amga://g"])
    assert moved.remote_path("amga://h:8822") == "/data" and moved.remote_path("amga://g") == "/a"
    with pytest.raises(MountConfigError, match="mounted from amga://h already"):
        parse_mounts(["/a=amga://h/x", "/a=amga://h/y"])
    for bad, message in [
        ("/a", "write /PATH=amga"),
        ("a=amga://h", "absolute path"),
        ("/=amga://h", "absolute path"),
        ("/a=http://h", "is not amga://"),
        ("/a=amga://u:p@h", "no credentials"),
        ("/a=amga://h/b/", "remote path '/b/' must be an absolute path"),
        ("/a=amga://h/b/../c", "remote path"),
        ("/a=amga://h/b?x=1", "remote path"),
        ("/a=amga://h:x", "port is not a number"),
    ]:
        with pytest.raises(MountConfigError, match=message):
            parse_mounts([bad])


def test_bk_amga_serve_takes_mounts_from_the_command_line(tmp_path: object) -> None:
    from click.testing import CliRunner

    from bookkeeping.cli import main

    result = CliRunner().invoke(
        main,
        [
            "amga",
            "serve",
            "--db",
            f"sqlite:///{tmp_path}/x.sqlite",
            "--port",
            str(free_port()),
            "--mount",
            "/a=ftp://h",
        ],
    )
    assert result.exit_code == 1
    # Refused before anything is served: the mount (or, first, the missing database file).
    assert "amga://HOST:PORT/PATH" in result.output or "no database at" in result.output


def test_the_real_mdclient_lists_and_selects_across_a_mount(federation: Federation) -> None:
    from tests.protocol.test_real_mdclient import MDCLIENT_DIR, PYTHON2

    if MDCLIENT_DIR is None or PYTHON2 is None:
        pytest.skip("needs BK_TEST_AMGA_MDCLIENT_DIR and python2.7 (docs/protocol.md)")
    driver = Path(__file__).with_name("mdclient_mounts_driver.py")
    command = [PYTHON2, str(driver), str(MDCLIENT_DIR), "127.0.0.1", str(federation.front.port)]
    completed = subprocess.run(
        [*command, "alice", ALICE_PASSWORD], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    read = json.loads(completed.stdout)
    r, o = federation.remote.server.port, federation.other.server.port
    assert read["dir /"] == [
        ["/down", "collection"],
        ["/local", "collection"],
        ["/remote", "collection"],
    ]
    assert [name for name, _ in read["dir /remote"]] == [
        f"/remote/{r}-1",
        f"/remote/{r}-2",
        f"/remote/{o}-3",
    ]
    assert read["selectattr"] == [[f"{r}-2", "2"], [f"{o}-3", "3"]]
    assert read["selectattr at cwd"] == [["1"], ["2"]]
    assert read["getattr"] == [["fromold", "9"]]
    assert read["dir /down"]["message"].startswith(
        "/down is mounted from amga://127.0.0.1:1, which cannot be reached"
    )
