"""Building the daemons from settings: the bookkeeping they read and write, the storage
elements they open, their configuration."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.datahandling.archiver import Archiver
from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.datahandling.requests import RecallRequests
from bookkeeping.datahandling.storage import ElementCache
from bookkeeping.datahandling.worker import RecallWorker
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, BookkeepingWriter


@dataclass
class DataHandling:
    engine: Engine
    bookkeeping: Bookkeeping
    writer: BookkeepingWriter
    elements: ElementCache
    config: DataHandlingConfig

    @classmethod
    def open(cls, engine: Engine, backend: str, config: DataHandlingConfig) -> DataHandling:
        return cls(
            engine,
            open_bookkeeping(engine, backend),
            open_writer(engine, backend),
            ElementCache(engine),
            config,
        )

    def archiver(self, me: str) -> Archiver:
        return Archiver(
            self.engine, self.bookkeeping, self.writer, self.elements, me=me, config=self.config
        )

    def requests(self) -> RecallRequests:
        registry = self.elements.registry

        def roles(names: list[str]) -> dict[str, str]:
            return {name: record.role for name, record in registry.records(names).items()}

        return RecallRequests(self.engine, self.bookkeeping, roles)  # type: ignore[arg-type]

    def worker(self, me: str) -> RecallWorker:
        return RecallWorker(
            self.engine,
            self.bookkeeping,
            self.writer,
            self.elements,
            me=me,
            config=self.config,
            drive_limit=self.drives(),
        )

    def drives(self) -> int:
        """Cartridges read at once: the most drives any tape library has."""
        from bookkeeping.storage.tape import parse_tape_url

        most = 1
        for record in self.elements.registry.list(role="tape"):
            try:
                most = max(most, parse_tape_url(record.name, record.url).drives)
            except BookkeepingError:
                continue
        return most

    def close(self) -> None:
        self.elements.close()
