"""The whitelist of sender keys an endpoint accepts (``syncat_trusted_keys``) and the key
files of this machine's endpoints."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.engines import write_transaction
from bookkeeping.syncat.errors import KeyProblem, UntrustedSender
from bookkeeping.syncat.signing import Signer, parse_public
from bookkeeping.syncat.tables import trusted_keys

_ENDPOINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,254}$")


def check_endpoint(name: str) -> str:
    if not _ENDPOINT.match(name):
        raise KeyProblem(
            f"endpoint name {name!r}: letters, digits and _.:@- only (e.g. se:CERN-DISK)"
        )
    return name


def key_path(key_dir: Path, endpoint: str) -> Path:
    return key_dir / (check_endpoint(endpoint).replace(":", "_") + ".pem")


def generate(key_dir: Path, endpoint: str) -> Signer:
    signer = Signer.generate(check_endpoint(endpoint))
    signer.save(key_path(key_dir, endpoint))
    return signer


def load_signer(key_dir: Path, endpoint: str) -> Signer:
    path = key_path(key_dir, endpoint)
    if not path.exists():
        raise KeyProblem(
            f"no key for endpoint {endpoint!r} at {path}: run bk syncat keys generate {endpoint}"
        )
    return Signer.load(endpoint, path)


def trust(engine: Engine, endpoint: str, public_key: str) -> bool:
    """Accept messages signed by ``public_key`` as ``endpoint``; False when already so."""
    check_endpoint(endpoint)
    key = public_key.strip()
    parse_public(key)
    with write_transaction(engine) as connection:
        known = connection.scalar(
            sa.select(trusted_keys.c.endpoint).where(trusted_keys.c.public_key == key)
        )
        if known == endpoint:
            return False
        if known is not None:
            raise KeyProblem(f"that key is trusted already as {known!r}; distrust it first")
        connection.execute(trusted_keys.insert().values(public_key=key, endpoint=endpoint))
    return True


def distrust(engine: Engine, public_key: str) -> bool:
    with write_transaction(engine) as connection:
        deleted = connection.execute(
            trusted_keys.delete().where(trusted_keys.c.public_key == public_key.strip())
        )
    return bool(deleted.rowcount)


def trusted(engine: Engine) -> list[tuple[str, str]]:
    """(endpoint, public key), by endpoint."""
    query = sa.select(trusted_keys.c.endpoint, trusted_keys.c.public_key).order_by(
        trusted_keys.c.endpoint, trusted_keys.c.public_key
    )
    with engine.connect() as connection:
        return [(row.endpoint, row.public_key) for row in connection.execute(query)]


class Whitelist:
    """The trusted keys, read once per ``refresh`` (a consumer refreshes on an unknown key,
    so a key trusted while it runs is taken without a restart)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._keys: dict[str, str] = {}
        self.refresh()

    def refresh(self) -> None:
        self._keys = {key: endpoint for endpoint, key in trusted(self.engine)}

    def check(self, public_key: str, sender: str) -> None:
        """``UntrustedSender`` unless ``public_key`` is trusted as ``sender``."""
        if public_key not in self._keys:
            self.refresh()
        endpoint = self._keys.get(public_key)
        if endpoint is None:
            raise UntrustedSender(f"the key of sender {sender!r} is not trusted here")
        if endpoint != sender:
            raise UntrustedSender(
                f"the key is trusted as {endpoint!r}, but the message claims sender {sender!r}"
            )
