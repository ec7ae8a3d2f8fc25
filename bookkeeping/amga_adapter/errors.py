"""Errors of the metadata catalogue engine.

Codes are stable: they travel on the AMGA wire as the response code. The catalogue uses the
block 10-49 (the generic project errors use 1-9, the wire protocol 60-69). Messages name the
path, attribute or value at fault.
"""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError


class CatalogueError(BookkeepingError):
    """Base of every catalogue error."""

    code = 10


class NoSuchDirectory(CatalogueError):
    code = 11


class NoSuchEntry(CatalogueError):
    code = 12


class NoSuchAttribute(CatalogueError):
    code = 13


class DirectoryExists(CatalogueError):
    code = 14


class EntryExists(CatalogueError):
    code = 15


class AttributeExists(CatalogueError):
    code = 16


class DirectoryNotEmpty(CatalogueError):
    code = 17


class PermissionDenied(CatalogueError):
    code = 20


class AuthenticationFailed(CatalogueError):
    code = 21


class NoSuchUser(CatalogueError):
    code = 22


class UserExists(CatalogueError):
    code = 23


class NoSuchGroup(CatalogueError):
    code = 24


class GroupExists(CatalogueError):
    code = 25


class TypeMismatch(CatalogueError):
    """A value cannot be stored in its attribute's type (or is too long for it)."""

    code = 30


class InvalidName(CatalogueError):
    """A directory, entry, attribute, user or group name is not allowed."""

    code = 31


class InvalidType(CatalogueError):
    """An attribute type specification is not one the catalogue knows."""

    code = 32


class InvalidValue(CatalogueError):
    """A value no back-end can store faithfully (e.g. a NUL character)."""

    code = 33


class AttributeInUse(CatalogueError):
    """removeattr of an attribute some entry still uses, without ``force``."""

    code = 34


class NoSuchSequence(CatalogueError):
    code = 35


class SequenceExists(CatalogueError):
    code = 36


class ConstraintViolation(CatalogueError):
    """A write broke a not-null, unique, reference or check constraint; nothing changed."""

    code = 37


class NoSuchConstraint(CatalogueError):
    code = 38


class TransactionError(CatalogueError):
    """begin inside a transaction, commit/abort outside one, or a failed transaction."""

    code = 39


class SchemaChangeInTransaction(CatalogueError):
    """A schema change inside an explicit transaction on a back-end whose DDL commits."""

    code = 40


class InvalidPattern(CatalogueError):
    """An entry-name pattern where a single path is required, or a malformed path."""

    code = 41


class NoSuchIndex(CatalogueError):
    code = 42
