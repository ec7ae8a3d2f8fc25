"""Password and client-certificate logins over TLS, with certificates made in the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bookkeeping.amga_adapter.client import CommandException, MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.serving import RunningServer, running_server


def _name(*parts: tuple[Any, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def _write(directory: Path, name: str, cert: x509.Certificate, key: Any) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("pki")
    ca_key, server_key, alice_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = _name((NameOID.ORGANIZATION_NAME, "Test Lab"), (NameOID.COMMON_NAME, "Test CA"))
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    server = _certificate(
        _name((NameOID.COMMON_NAME, "localhost")), ca_name, server_key, ca_key, server=True
    )
    alice = _certificate(
        _name(
            (NameOID.COUNTRY_NAME, "CH"),
            (NameOID.ORGANIZATION_NAME, "Test Lab"),
            (NameOID.COMMON_NAME, "Alice Example"),
        ),
        ca_name,
        alice_key,
        ca_key,
    )
    paths = {"ca": _write(directory, "ca", ca, ca_key)[0]}
    paths["server_cert"], paths["server_key"] = _write(directory, "server", server, server_key)
    paths["alice_cert"], paths["alice_key"] = _write(directory, "alice", alice, alice_key)
    return paths


@pytest.fixture
def tls_server(catalogue: Any, pki: dict[str, Path]) -> Iterator[RunningServer]:
    with running_server(
        catalogue, tls_cert=pki["server_cert"], tls_key=pki["server_key"], tls_ca=pki["ca"]
    ) as amga:
        yield amga


def test_password_login_over_tls(tls_server: RunningServer, pki: dict[str, Path]) -> None:
    with MDClient("127.0.0.1", tls_server.port, "root", ROOT_PASSWORD) as client:
        client.requireSSL(ca=str(pki["ca"]))
        assert client.whoami() == "root"
        client.createDir("/secure")
        assert client.listEntries("/", sync=True) == [("/secure", "collection")]


def test_certificate_login_maps_the_subject_dn_to_its_user(
    tls_server: RunningServer, pki: dict[str, Path]
) -> None:
    with MDClient("127.0.0.1", tls_server.port) as client:
        client.requireSSL(key=str(pki["alice_key"]), cert=str(pki["alice_cert"]), ca=str(pki["ca"]))
        assert client.whoami() == "alice"


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
