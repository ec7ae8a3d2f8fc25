"""Client-side federation over two live servers on two databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client import MDClient
from bookkeeping.amga_adapter.directory_info import load_directory
from bookkeeping.amga_adapter.federation import FederatedClient
from tests.protocol.conftest import ROOT_PASSWORD, Site
from tests.protocol.serving import RunningServer


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
