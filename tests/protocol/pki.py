"""A throw-away PKI for TLS tests: a CA, a server certificate for 127.0.0.1/localhost,
and client certificates for alice (a DN the catalogue knows) and a stranger (one it does
not)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


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


def make_pki(directory: Path) -> dict[str, Path]:
    """Paths ``ca``, ``server_cert``/``server_key``, ``alice_cert``/``alice_key`` and
    ``stranger_cert``/``stranger_key``."""
    ca_key, server_key, alice_key, stranger_key = (
        ec.generate_private_key(ec.SECP256R1()) for _ in range(4)
    )
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
    stranger = _certificate(
        _name((NameOID.ORGANIZATION_NAME, "Elsewhere"), (NameOID.COMMON_NAME, "Nobody Known")),
        ca_name,
        stranger_key,
        ca_key,
    )
    paths = {"ca": _write(directory, "ca", ca, ca_key)[0]}
    paths["server_cert"], paths["server_key"] = _write(directory, "server", server, server_key)
    paths["alice_cert"], paths["alice_key"] = _write(directory, "alice", alice, alice_key)
    paths["stranger_cert"], paths["stranger_key"] = _write(
        directory, "stranger", stranger, stranger_key
    )
    return paths
