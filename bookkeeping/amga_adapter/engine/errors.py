"""Errors of the metadata catalogue engine.

Codes are stable: they travel on the AMGA wire as the response code. The catalogue uses the
block 10-49 (the generic project errors use 1-9, the wire protocol 60-69). Messages name the
path, attribute or value at fault.
"""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class CatalogueError(BookkeepingError):
    """Base of every catalogue error."""

    code = 10
    kind = Kind.INVALID


class NoSuchDirectory(CatalogueError):
    """The directory does not exist (or the caller may not see it)."""

    code = 11
    kind = Kind.NOT_FOUND
    sqlstate = "42P01"


class NoSuchEntry(CatalogueError):
    """No entry of that name in the directory."""

    code = 12
    kind = Kind.NOT_FOUND


class NoSuchAttribute(CatalogueError):
    """The directory has no attribute of that name."""

    code = 13
    kind = Kind.NOT_FOUND
    sqlstate = "42703"


class DirectoryExists(CatalogueError):
    """A directory (or entry) of that name exists already."""

    code = 14
    kind = Kind.CONFLICT


class EntryExists(CatalogueError):
    """An entry of that name exists already in the directory."""

    code = 15
    kind = Kind.CONFLICT
    sqlstate = "23505"


class AttributeExists(CatalogueError):
    """The directory has an attribute of that name already."""

    code = 16
    kind = Kind.CONFLICT


class DirectoryNotEmpty(CatalogueError):
    """rmdir of a directory that still holds entries or sub-directories."""

    code = 17
    kind = Kind.CONFLICT
    sqlstate = "55006"


class PermissionDenied(CatalogueError):
    """The caller lacks the right (read, write, admin) the operation needs."""

    code = 20
    kind = Kind.PERMISSION


class AuthenticationFailed(CatalogueError):
    """Wrong user name, password or certificate."""

    code = 21
    kind = Kind.AUTHENTICATION


class NoSuchUser(CatalogueError):
    """No user of that name (or certificate subject)."""

    code = 22
    kind = Kind.NOT_FOUND
    sqlstate = "28000"


class UserExists(CatalogueError):
    """A user of that name exists already."""

    code = 23
    kind = Kind.CONFLICT
    sqlstate = "42710"


class NoSuchGroup(CatalogueError):
    """No group of that name."""

    code = 24
    kind = Kind.NOT_FOUND


class GroupExists(CatalogueError):
    """A group of that name exists already."""

    code = 25
    kind = Kind.CONFLICT


class TypeMismatch(CatalogueError):
    """A value cannot be stored in its attribute's type (or is too long for it)."""

    code = 30
    kind = Kind.DATA
    sqlstate = "22000"


class InvalidName(CatalogueError):
    """A directory, entry, attribute, user or group name is not allowed."""

    code = 31
    kind = Kind.DATA
    sqlstate = "42602"


class InvalidType(CatalogueError):
    """An attribute type specification is not one the catalogue knows."""

    code = 32
    kind = Kind.DATA
    sqlstate = "42704"


class InvalidValue(CatalogueError):
    """A value no back-end can store faithfully (e.g. a NUL character)."""

    code = 33
    kind = Kind.DATA


class AttributeInUse(CatalogueError):
    """removeattr of an attribute some entry still uses, without ``force``."""

    code = 34
    kind = Kind.CONFLICT
    sqlstate = "55006"


class NoSuchSequence(CatalogueError):
    """No sequence of that name in the directory."""

    code = 35
    kind = Kind.NOT_FOUND


class SequenceExists(CatalogueError):
    """A sequence of that name exists already."""

    code = 36
    kind = Kind.CONFLICT


class ConstraintViolation(CatalogueError):
    """A write broke a not-null, unique, reference or check constraint; nothing changed."""

    code = 37
    kind = Kind.CONSTRAINT


class NoSuchConstraint(CatalogueError):
    """No constraint of that name on the directory."""

    code = 38
    kind = Kind.NOT_FOUND


class TransactionError(CatalogueError):
    """begin inside a transaction, commit/abort outside one, or a failed transaction."""

    code = 39
    kind = Kind.TRANSACTION


class SchemaChangeInTransaction(CatalogueError):
    """A schema change inside an explicit transaction on a back-end whose DDL commits."""

    code = 40
    kind = Kind.TRANSACTION
    sqlstate = "25000"


class InvalidPattern(CatalogueError):
    """An entry-name pattern where a single path is required, or a malformed path."""

    code = 41
    kind = Kind.INVALID


class NoSuchIndex(CatalogueError):
    """No index of that name on the directory."""

    code = 42
    kind = Kind.NOT_FOUND
