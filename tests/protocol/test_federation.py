"""Client-side federation over two live servers on two databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import CommandException, MDClient
from bookkeeping.amga_adapter.client.federation import FederatedClient
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from tests.protocol.conftest import (
    ROOT_PASSWORD,
    Site,
    make_data_directory,
    second_catalogue_server,
)
from tests.protocol.serving import RunningServer, running_server


def test_reads_fan_out_and_merge(
    federation: FederatedClient, amga: RunningServer, second_site: Site
) -> None:
    federation.addEntry("/data/a", ["run"], [1])
    with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as first:
        first.addEntry("/data/b", ["run"], [2])
    assert sorted(name for name, _ in federation.listEntries("/data")) == ["/data/a", "/data/b"]
    assert sorted(federation.getattr("/data/*", ["run"])) == [("a", ["1"]), ("b", ["2"])]
    assert [name for name, _ in federation.listEntries("/")] == ["/data"]


def test_writes_go_to_the_owner_under_the_callers_identity(
    federation: FederatedClient, second_site: Site
) -> None:
    federation.addEntry("/data/mine", ["run"], [7])
    assert federation.owner("/data").port == second_site.server.port
    assert federation.owner("/data/x").whoami() == "alice"
    with second_site.engine.connect() as connection:
        table = load_directory(connection, "/data").table
        owner = connection.scalar(sa.select(table.c.owner).where(table.c.name == "mine"))
    assert owner == "alice"


def test_an_unmounted_path_is_refused() -> None:
    federation = FederatedClient({"/only": "amga://127.0.0.1:1"})
    with pytest.raises(LookupError, match="no mount covers"):
        federation.owner("/elsewhere")


def _two_runs(federation: FederatedClient, amga: RunningServer) -> None:
    federation.addEntry("/data/a", ["run"], [1])  # on the second site (owner of /data)
    with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as first:
        first.addEntry("/data/b", ["run"], [2])


def test_relative_items_and_conditions_resolve_against_the_federated_cwd(
    federation: FederatedClient, amga: RunningServer
) -> None:
    _two_runs(federation, amga)
    federation.cd("/data")
    assert federation.pwd() == "/data"
    assert sorted(federation.selectAttr(["run"], "")) == [["1"], ["2"]]
    assert federation.selectAttr(["FILE", ".:run"], "run>1") == [["b", "2"]]
    assert federation.selectQuery(["FILE"], 'FILE="a"') == [{"FILE": "a"}]
    assert sorted(federation.find("/data", ".:run>0")) == ["/data/a", "/data/b"]
    federation.updateAttr("a", ["run 'run+10'"], ".:run=1")
    assert sorted(federation.selectAttr(["FILE", "run"], "")) == [["a", "11"], ["b", "2"]]
    federation.cd("/")
    assert sorted(federation.selectAttr(["data:run"], "")) == [["11"], ["2"]]


def test_cd_to_a_missing_directory_is_refused_and_changes_nothing(
    federation: FederatedClient,
) -> None:
    federation.cd("/data")
    with pytest.raises(CommandException):
        federation.cd("/data/nowhere")
    assert federation.pwd() == "/data"


def test_certificate_identity_reaches_every_server(catalogue: Any, pki: dict[str, Path]) -> None:
    tls = {"tls_cert": pki["server_cert"], "tls_key": pki["server_key"], "tls_ca": pki["ca"]}
    with running_server(catalogue, **tls) as first, second_catalogue_server(**tls) as second:
        for port in (first.port, second.server.port):
            make_data_directory(port, tls_ca=pki["ca"])
        mounts = {"/": f"amga://127.0.0.1:{first.port}", "/data": second.url}
        federation = FederatedClient(
            mounts, cert=str(pki["alice_cert"]), key=str(pki["alice_key"]), ca=str(pki["ca"])
        )
        try:
            assert federation.owner("/").whoami() == "alice"
            assert federation.owner("/data").whoami() == "alice"
            federation.addEntry("/data/signed", ["run"], [3])
            federation.cd("/data")
            assert federation.selectAttr(["FILE", "run"], "") == [["signed", "3"]]
        finally:
            federation.close()
        with second.engine.connect() as connection:
            table = load_directory(connection, "/data").table
            owner = connection.scalar(sa.select(table.c.owner).where(table.c.name == "signed"))
        assert owner == "alice"
