"""Syncat fixtures: every transport test runs on the database transport and on RabbitMQ
(the machine's broker, ``BK_TEST_RABBITMQ_URL``, default guest on 127.0.0.1:5672) with
queue names of its own, deleted afterwards. With ``CI=true`` an unreachable broker fails."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.interface import Bookkeeping, BookkeepingWriter
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat import trust
from bookkeeping.syncat.errors import BrokerUnavailable
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.transport.amqp import AmqpTransport
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.syncat.transport.database import DatabaseTransport
from bookkeeping.writer.model import EventTypeSpec, JobReport, OutputFileSpec, ReplicaSpec

RABBITMQ_URL = os.environ.get("BK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
SITE = "SE1"


def rabbitmq_available() -> bool:
    probe = AmqpTransport(RABBITMQ_URL, connect_timeout=2)
    try:
        probe.backlog("syncat-probe-" + uuid.uuid4().hex)
        return True
    except BrokerUnavailable:
        return False
    finally:
        probe.close()


@pytest.fixture(params=["database", "rabbitmq"])
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def routing() -> Routing:
    return Routing(prefix=f"test-{uuid.uuid4().hex[:12]}.")


@pytest.fixture
def transport(transport_name: str, engine: Engine, routing: Routing) -> Iterator[Transport]:
    if transport_name == "database":
        made: Transport = DatabaseTransport(engine, lease=5.0)
    else:
        if not rabbitmq_available():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI=true but RabbitMQ at {RABBITMQ_URL} is unreachable")
            pytest.skip(f"RabbitMQ at {RABBITMQ_URL} is unreachable")
        made = AmqpTransport(RABBITMQ_URL)
    try:
        yield made
    finally:
        if transport_name == "rabbitmq":
            for queue in (routing.catalogue, routing.se(SITE), routing.se("SE2")):
                made.delete_queue(queue)
        made.close()


@dataclass
class World:
    engine: Engine
    reader: Bookkeeping
    writer: BookkeepingWriter
    catalogue_key: Signer
    se_key: Signer
    lfns: list[str]
    key_dir: Path
    se_root: Path


def lfn(index: int) -> str:
    return f"/lhcb/MC/2024/DST/00001234/0000/file_{index:06d}.dst"


def report(
    job: int, lfns: list[str], site: str = SITE, storage_class: str = "disk", se: str | None = None
) -> JobReport:
    return JobReport(
        config_name="MC",
        config_version="2024",
        job_date=datetime(2024, 5, 1, 12, 0, 0),
        dirac_job_id=job,
        production=1234,
        conditions="Beam6800GeV",
        processing_pass="/Sim10",
        event_types=(EventTypeSpec(12345678, "syncat test events"),),
        output_files=tuple(
            OutputFileSpec(
                lfn=name,
                file_type="DST",
                file_type_version="1",
                guid=str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper(),
                size=1000,
                events=10,
                checksum="0000abcd",
                event_type=12345678,
                creation_time=datetime(2024, 5, 1, 12, 0, 0),
                replicas=(ReplicaSpec(site, storage_class, se=se or site, path=name),),
            )
            for name in lfns
        ),
    )


def populate(writer: BookkeepingWriter, count: int, per_job: int = 500) -> list[str]:
    names = [lfn(i) for i in range(count)]
    reports = [
        report(1 + start // per_job, names[start : start + per_job])
        for start in range(0, count, per_job)
    ]
    for result in writer.record_batch(reports):
        assert result.ok, result.error
    return names


def add_user(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(users.insert().values(name=name, password_hash=None))


@pytest.fixture(params=["catalogue", "warehouse"])
def bookkeeping_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_world(
    engine: Engine, backend: str, key_dir: Path, files: int = 20, *, materialise: bool = False
) -> World:
    """``files`` recorded with a copy on the posix SE ``SE1`` (in ``key_dir``'s parent
    folder ``se1``); their bytes written there when ``materialise``."""
    add_user(engine, "root")
    registry = StorageRegistry(engine)
    se_root = key_dir.parent / "se1"
    se_root.mkdir(parents=True, exist_ok=True)
    registry.add(SITE, f"file://{se_root}", "offline", site=SITE)
    writer = open_writer(engine, backend)
    names = populate(writer, files)
    if materialise:
        element = registry.open(SITE)
        for name in names:
            element.put(io.BytesIO(name.encode()), name)
    catalogue_key = trust.generate(key_dir, "catalogue")
    se_key = trust.generate(key_dir, f"se:{SITE}")
    trust.trust(engine, "catalogue", catalogue_key.public)
    trust.trust(engine, f"se:{SITE}", se_key.public)
    return World(
        engine,
        open_bookkeeping(engine, backend),
        writer,
        catalogue_key,
        se_key,
        names,
        key_dir,
        se_root,
    )


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return make_world(engine, "catalogue", tmp_path / "keys")
