"""The project's error hierarchy.

Every error carries a stable numeric ``code`` (they travel on the AMGA wire and in the JSON
error shape) and a message that names what was wrong. Front-ends translate these; they never
inspect driver exceptions themselves.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BookkeepingError(Exception):
    """Base of every error this project raises on purpose."""

    code: ClassVar[int] = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ConfigError(BookkeepingError):
    """A setting, flag, environment variable or config file is wrong."""

    code = 2


class DatabaseUnavailable(BookkeepingError):
    """The database server cannot be reached or refused the connection."""

    code = 3


class SchemaNotInitialised(BookkeepingError):
    """The database has no (or an outdated) schema: run ``bk init``."""

    code = 4


class ValidationError(BookkeepingError):
    """Input (a report, a parameter, a form) failed validation; nothing was changed."""

    code = 5
