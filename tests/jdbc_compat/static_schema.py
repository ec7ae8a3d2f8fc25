"""An in-memory catalogue schema for pure translation tests."""

from __future__ import annotations

import posixpath


class StaticSchema:
    def __init__(self, tables: dict[str, list[tuple[str, str]]], base: str = "/") -> None:
        self.base_directory = base
        self.tables = tables
        self.fresh = True

    def directories(self) -> list[str]:
        return list(self.tables)

    def attributes(self, directory: str) -> list[tuple[str, str]]:
        return self.tables[posixpath.basename(directory)]


BOOKKEEPING = StaticSchema(
    {
        "jobs": [
            ("JOB_ID", "int"),
            ("CONFIGNAME", "varchar(64)"),
            ("CONFIGVERSION", "varchar(64)"),
            ("JOBDATE", "timestamp"),
        ],
        "files": [
            ("FILE_ID", "int"),
            ("JOB_ID", "int"),
            ("FILENAME", "varchar(255)"),
            ("Size", "bigint"),
            ("Order", "int"),
        ],
    }
)
