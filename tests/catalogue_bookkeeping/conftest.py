"""Both bookkeeping implementations on one database (each keeps to its own tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter


def add_root(engine: Engine) -> None:
    """The catalogue user the bookkeeping acts as (``bk init`` creates it in production)."""
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))


@dataclass
class Pair:
    engine: Engine
    warehouse: WarehouseBookkeeping
    catalogue: CatalogueBookkeeping
    warehouse_writer: WarehouseWriter
    catalogue_writer: CatalogueWriter


def make_pair(engine: Engine) -> Pair:
    add_root(engine)
    return Pair(
        engine,
        WarehouseBookkeeping(engine),
        CatalogueBookkeeping(engine),
        WarehouseWriter(engine),
        CatalogueWriter(engine),
    )


@contextmanager
def fresh_pair(backend: str) -> Iterator[Pair]:
    """A new scratch database on ``backend`` with both implementations (for hypothesis,
    which cannot use function-scoped fixtures per example)."""
    with scratch_database(backend, server_url(backend)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        try:
            yield make_pair(engine)
        finally:
            engine.dispose()


@pytest.fixture
def pair(engine: Engine) -> Pair:
    return make_pair(engine)
