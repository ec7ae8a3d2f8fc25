"""What the translator needs to know about the catalogue: tables are directories under a
base directory, columns are their attributes; both are matched case-insensitively the way
unquoted SQL identifiers are (an exact match wins over a case-insensitive one)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from bookkeeping.jdbc_compat.exceptions import NotSupportedError, ProgrammingError

# The query language's reference syntax (query/grammar.lark, REF): a path of word
# characters, dots and dashes, then a colon and an attribute name.
_PATH = re.compile(r"/|/?[\w.\-]+(/[\w.\-]+)*/?")
_ATTRIBUTE = re.compile(r"[^\W\d]\w*")

if TYPE_CHECKING:
    from bookkeeping.jdbc_compat.views import View

ENTRY_NAME = "FILE"  # the catalogue's entry-name pseudo-attribute
ENTRY_TYPE = "entry"  # its type code (compares equal to ROWID)


class CatalogueSchema(Protocol):
    base_directory: str

    def directories(self) -> list[str]:
        """Names of the directories directly under the base directory."""
        ...

    def attributes(self, directory: str) -> list[tuple[str, str]]:
        """(name, catalogue type) of each attribute of an absolute directory path."""
        ...


def views_of(schema: CatalogueSchema) -> Mapping[str, View]:
    """The views defined on the connection (a schema without any has none)."""
    return getattr(schema, "views", None) or {}


def match_name(wanted: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``wanted`` names: exact match, else the one case-insensitive match."""
    names = list(candidates)
    if wanted in names:
        return wanted
    folded = [name for name in names if name.casefold() == wanted.casefold()]
    return folded[0] if len(folded) == 1 else None


def directory_path(schema: CatalogueSchema, name: str) -> str:
    return posixpath.join(schema.base_directory, name)


def find_table(schema: CatalogueSchema, table: str) -> str | None:
    found = match_name(table, schema.directories())
    return None if found is None else directory_path(schema, found)


def table_directory(schema: CatalogueSchema, table: str) -> str:
    """The directory a table name stands for; ProgrammingError if there is none."""
    path = find_table(schema, table)
    if path is None:
        raise ProgrammingError(
            f"no such table: {table} (no directory of that name in {schema.base_directory})"
        )
    return path


def reference(directory: str, attribute: str) -> str:
    """The query-language reference ``/dir:attr``; refuses names the language cannot spell."""
    if not _PATH.fullmatch(directory):
        raise NotSupportedError(f"directory {directory!r} cannot be named in the query language")
    if not _ATTRIBUTE.fullmatch(attribute):
        raise NotSupportedError(f"attribute {attribute!r} cannot be named in the query language")
    return f"{directory}:{attribute}"
