"""Catalogue ACL grants and revokes are announced downstream through the outbox, in the
change's transaction (a refused change announces nothing), and the storage consumer applies
them on a posix SE by its own rules: everybody's rights become the files' "other" bits, the
configured group's their group bits, a single user's nothing. On both transports."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import DirectoryExists, PermissionDenied
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.consumer import Consumer
from bookkeeping.syncat.plugins import PluginContext, load
from bookkeeping.syncat.plugins.storage import acl_bits
from bookkeeping.syncat.relay import Relay
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import outbox
from bookkeeping.syncat.transport.base import Transport
from tests.syncat.conftest import SITE, add_user, make_world

GROUP = "group:lhcb"


def _outbox_items(engine: Engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox).order_by(outbox.c.id))
        return [(r.type, r.se, json.loads(r.item)) for r in rows]


def _drain(consumer: Consumer, expected: int) -> None:
    handled = 0
    for _ in range(40):  # bounded: 40 receive rounds of at most 0.5 s
        handled += consumer.run_once(limit=10, timeout=0.5)
        if handled >= expected:
            break
    assert handled == expected


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_acl_changes_are_announced_and_applied_by_the_se_rules(
    engine: Engine, tmp_path: Path, transport: Transport, routing: Routing
) -> None:
    world = make_world(engine, "catalogue", tmp_path / "keys", files=3, materialise=True)
    add_user(engine, "alice")
    add_user(engine, "mallory")
    catalogue = Catalogue(engine)
    catalogue.add_group("root", "lhcb")
    directory = world.lfns[0].rsplit("/", 1)[0]
    files = [world.se_root / name.lstrip("/") for name in world.lfns]
    nested = world.se_root / directory.lstrip("/") / "sub" / "x.dst"  # another directory's
    nested.parent.mkdir()
    nested.write_bytes(b"x")
    for path in [*files, nested]:
        path.chmod(0o600)
    session = catalogue.session("root")
    try:
        parts = directory.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            try:
                session.createdir("/" + "/".join(parts[:depth]))
            except DirectoryExists:
                pass
        # a new directory inherits everybody's r-x from above
        assert dict(session.acl_show(directory))["system:anyuser"] == "r-x"
        session.acl_grant(directory, "system:anyuser", "w")
        session.acl_grant(directory, GROUP, "rw")
        session.acl_grant(directory, "alice", "rw")
        session.acl_grant(directory, "alice", "rw")  # no change: nothing to announce
    finally:
        session.close()
    intruder = catalogue.session("mallory")
    try:
        with pytest.raises(PermissionDenied):
            intruder.acl_grant(directory, "system:anyuser", "rw")
    finally:
        intruder.close()
    assert _outbox_items(engine) == [
        ("acl_changed", "*", {"path": directory, "principal": p, "rights": r})
        for p, r in [("system:anyuser", "rwx"), (GROUP, "rw-"), ("alice", "rw-")]
    ]

    registry = StorageRegistry(engine)
    relay = Relay(engine, transport, world.catalogue_key, routing, ses=[SITE])
    plugin = load(
        "storage",
        PluginContext(engine, open_element=registry.open, options={"acl_group": GROUP}),
    )
    consumer = Consumer(engine, transport, routing.se(SITE), f"se:{SITE}", [plugin], serves=[SITE])
    assert relay.run_once() == 3  # one message of three items
    _drain(consumer, 1)
    assert [_mode(path) for path in files] == [0o666] * 3  # x is not carried to files
    assert _mode(nested) == 0o600  # a sub-directory has its own ACL in the catalogue

    session = catalogue.session("root")
    try:
        session.acl_revoke(directory, "system:anyuser", "rw")
        session.acl_revoke(directory, GROUP, "w")
    finally:
        session.close()
    assert relay.run_once() == 2
    _drain(consumer, 1)
    assert [_mode(path) for path in files] == [0o640] * 3
    status = counts(engine, f"se:{SITE}")
    assert (status.applied, status.refused) == (2, {})
    assert status.backlog == 0


def test_the_rules_map_principals_to_mode_bits() -> None:
    assert acl_bits("system:anyuser", "rwx", None) == (0o006, 0o006)
    assert acl_bits("system:anyuser", "---", GROUP) == (0o006, 0)
    assert acl_bits(GROUP, "r--", GROUP) == (0o060, 0o040)
    assert acl_bits(GROUP, "r--", None) is None  # no group configured on this SE
    assert acl_bits("alice", "rw-", GROUP) is None
