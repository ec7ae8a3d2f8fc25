"""Automatic reconnect never repeats a write whose outcome is unknown, and never reconnects
in the middle of an upload or a transaction (the server rolled that work back)."""

from __future__ import annotations

from typing import Any

import pytest

from bookkeeping.amga_adapter.client.client import ConnectionLost, MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.cutting_proxy import CuttingProxy
from tests.protocol.serving import RunningServer, running_server
from tests.waiting import wait_until


def test_a_write_cut_off_before_its_reply_is_not_sent_again(amga: RunningServer) -> None:
    with CuttingProxy(amga.port) as proxy:
        with MDClient("127.0.0.1", proxy.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/w")
            proxy.cut_after(0, once=True)  # the server runs it; its reply never arrives
            with pytest.raises(ConnectionLost, match="createdir may have run on the server"):
                client.createDir("/w/sub")
            assert client.listEntries("/w", sync=True) == [("/w/sub", "collection")]


def test_a_read_cut_off_before_its_reply_is_sent_again(amga: RunningServer) -> None:
    with CuttingProxy(amga.port) as proxy:
        with MDClient("127.0.0.1", proxy.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/r")
            proxy.cut_after(0, once=True)
            assert client.listEntries("/", sync=True) == [("/r", "collection")]


def test_a_connection_closed_while_idle_is_renewed_before_a_write(catalogue: Any) -> None:
    with running_server(catalogue, idle_timeout=0.3) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/idle")
            wait_until(lambda: not amga.server._connections, "the server hanging up")
            client.createDir("/idle/again")  # noticed before sending: sent once, no error
            assert client.listEntries("/idle", sync=True) == [("/idle/again", "collection")]


def test_no_reconnect_in_the_middle_of_an_upload(catalogue: Any) -> None:
    with running_server(catalogue, idle_timeout=0.3) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/up")
            client.addAttr("/up", "n", "int")
            client.upload("/up", ["n"])
            client.put("a", ["1"])
            # the server hangs up and rolls the upload back
            wait_until(lambda: not amga.server._connections, "the server hanging up")
            with pytest.raises(ConnectionLost, match="lost during an upload"):
                client.put("b", ["2"])
            with pytest.raises(ConnectionLost, match="not reconnecting"):
                client.pwd()
            client.abort()  # acknowledged: nothing to send
            assert client.listEntries("/up", sync=True) == []


def test_no_reconnect_in_the_middle_of_a_transaction(catalogue: Any) -> None:
    with running_server(catalogue, idle_timeout=0.3) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
            client.createDir("/tx")
            client.transaction()
            client.addEntry("/tx/a", [], [])
            wait_until(lambda: not amga.server._connections, "the server hanging up")
            with pytest.raises(ConnectionLost, match="lost during a transaction"):
                client.addEntry("/tx/b", [], [])
            with pytest.raises(ConnectionLost, match="nothing of it was written"):
                client.commit()
            assert client.listEntries("/tx", sync=True) == []  # back, on a fresh connection
            client.transaction()  # and transactions work again
            client.addEntry("/tx/c", [], [])
            client.commit()
            assert client.listEntries("/tx", sync=True) == [("/tx/c", "entry")]
