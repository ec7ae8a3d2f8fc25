"""Ed25519 key pairs of endpoints, signing and verifying messages (``cryptography``).

A private key lives in a PEM file readable by its owner only (``bk syncat keys generate``);
public keys are exchanged as base64 of their 32 raw bytes, which is also how they appear in a
message's ``key`` field and in the whitelist of trusted senders.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bookkeeping.syncat.errors import BadSignature, KeyProblem
from bookkeeping.syncat.messages import Envelope, WireMessage


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def parse_public(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise KeyProblem(f"not an Ed25519 public key (base64 of 32 bytes): {text[:60]!r}") from None


class Signer:
    """An endpoint's identity: its name and private key."""

    def __init__(self, endpoint: str, key: Ed25519PrivateKey) -> None:
        self.endpoint = endpoint
        self.key = key
        self.public = public_text(key.public_key())

    @classmethod
    def generate(cls, endpoint: str) -> Signer:
        return cls(endpoint, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, endpoint: str, path: Path) -> Signer:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyProblem(f"cannot read the key file {path}: {exc.strerror}") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyProblem(f"{path} is not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyProblem(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
        return cls(endpoint, key)

    def save(self, path: Path) -> None:
        """Write the private key, readable by its owner only; never overwrites."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyProblem(f"{path} exists already; refusing to overwrite a key") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())

    def sign(self, envelope: Envelope) -> WireMessage:
        if envelope.sender != self.endpoint:
            raise KeyProblem(
                f"endpoint {self.endpoint!r} cannot sign for sender {envelope.sender!r}"
            )
        text = envelope.to_json()
        signature = self.key.sign(text.encode("utf-8"))
        return WireMessage(text, self.public, _b64(signature))


def verify(message: WireMessage) -> None:
    """``BadSignature`` unless the signature is the key's over the envelope's bytes."""
    try:
        key = parse_public(message.key)
        signature = base64.b64decode(message.signature, validate=True)
        key.verify(signature, message.envelope.encode("utf-8"))
    except (KeyProblem, binascii.Error, InvalidSignature, ValueError):
        raise BadSignature("the signature does not verify with the message's key") from None
