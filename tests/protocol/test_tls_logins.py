"""Password and client-certificate logins over TLS, with certificates made in the test."""

from __future__ import annotations

import select
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bookkeeping.amga_adapter.client.client import CommandException, ConnectionLost, MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.serving import RunningServer, running_server


@pytest.fixture
def tls_server(catalogue: Any, pki: dict[str, Path]) -> Iterator[RunningServer]:
    with running_server(
        catalogue, tls_cert=pki["server_cert"], tls_key=pki["server_key"], tls_ca=pki["ca"]
    ) as amga:
        yield amga


def test_password_login_over_tls(tls_server: RunningServer, pki: dict[str, Path]) -> None:
    with MDClient("127.0.0.1", tls_server.port, "root", ROOT_PASSWORD) as client:
        client.requireSSL(ca=str(pki["ca"]))
        client.connect()
        connection = client._sock
        # Until the server's TLS 1.3 session tickets have arrived, unread (bounded: TLS 1.2
        # sends none).
        select.select([connection], [], [], 5)
        assert client.whoami() == "root"
        client.createDir("/secure")
        assert client.listEntries("/", sync=True) == [("/secure", "collection")]
        assert client._sock is connection  # the tickets were not taken for a hang-up


def test_certificate_login_maps_the_subject_dn_to_its_user(
    tls_server: RunningServer, pki: dict[str, Path]
) -> None:
    with MDClient("127.0.0.1", tls_server.port) as client:
        client.requireSSL(key=str(pki["alice_key"]), cert=str(pki["alice_cert"]), ca=str(pki["ca"]))
        assert client.whoami() == "alice"


def test_an_unknown_certificate_dn_is_refused_naming_the_subject(
    tls_server: RunningServer, pki: dict[str, Path]
) -> None:
    with MDClient("127.0.0.1", tls_server.port, auto_reconnect=False) as client:
        client.requireSSL(
            key=str(pki["stranger_key"]), cert=str(pki["stranger_cert"]), ca=str(pki["ca"])
        )
        with pytest.raises(CommandException) as caught:
            client.whoami()
        assert caught.value.code == 21
        assert "/O=Elsewhere/CN=Nobody Known" in caught.value.server_message
        with pytest.raises(ConnectionLost):  # the server hung up after the refusal
            client.whoami()


def test_tls_without_a_known_certificate_or_password_is_anonymous_or_refused(
    tls_server: RunningServer, pki: dict[str, Path]
) -> None:
    with MDClient("127.0.0.1", tls_server.port, "root", "wrong") as client:
        client.requireSSL(ca=str(pki["ca"]))
        with pytest.raises(CommandException) as caught:
            client.whoami()
        assert caught.value.code == 21


def test_tls_sessions_resume_over_tls(catalogue: Any, pki: dict[str, Path]) -> None:
    with running_server(
        catalogue,
        tls_cert=pki["server_cert"],
        tls_key=pki["server_key"],
        tls_ca=pki["ca"],
        release_sessions=True,
    ) as amga:
        with MDClient("127.0.0.1", amga.port) as client:
            client.requireSSL(
                key=str(pki["alice_key"]), cert=str(pki["alice_cert"]), ca=str(pki["ca"])
            )
            assert client.whoami() == "alice"
            assert client.sessionID and not client.connected
            assert client.whoami() == "alice"  # resumeSSL<ID>, TLS again, no login
