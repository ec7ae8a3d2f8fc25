"""The view benchmarks' databases (benchmarks/views_data.py) are what the writers make:
populated through both writers, the views pass ``check`` and both implementations agree."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from benchmarks.views_data import analyse, populate
from bookkeeping import migrate
from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.engines import create_engine
from bookkeeping.interface import DatasetPath, Level
from bookkeeping.scratch import ScratchDatabase
from bookkeeping.warehouse.reader import WarehouseBookkeeping


def test_a_benchmark_database_is_what_the_writers_make(backend: ScratchDatabase) -> None:
    engine: Engine = create_engine(backend.url)
    try:
        populate(engine, 300, seed=4)
        analyse(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        session = Catalogue(engine).session("root")
        try:
            assert check(session) == []
        finally:
            session.close()
        views, warehouse = CatalogueBookkeeping(engine), WarehouseBookkeeping(engine)
        everything = warehouse.files(DatasetPath())
        assert everything.total_files == 300
        assert views.files(DatasetPath()) == everything
        for level in Level:
            assert views.level_values(level) == warehouse.level_values(level)
    finally:
        engine.dispose()
