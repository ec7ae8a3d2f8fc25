"""Errors of the storage layer (codes 300-319). Each names the storage element and the path."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class StorageError(BookkeepingError):
    """Base of storage errors: a storage element refused or failed an operation."""

    code = 300


class UnknownStorageElement(StorageError):
    """No storage element of that name is registered."""

    code = 301
    kind = Kind.NOT_FOUND


class StorageUnavailable(StorageError):
    """The storage element's server cannot be reached (retry later)."""

    code = 302
    kind = Kind.UNAVAILABLE


class StorageFileNotFound(StorageError):
    """The path does not exist on the storage element."""

    code = 303
    kind = Kind.NOT_FOUND


class StorageFull(StorageError):
    """The storage element (or tape pool) has no room for the file."""

    code = 304


class UnsafePath(StorageError):
    """A path escapes its storage element's root (``..``, NUL, a scheme, ...)."""

    code = 305


class ChecksumMismatch(StorageError):
    """Bytes read or written do not have the size or adler32 expected."""

    code = 306
    kind = Kind.DATA


class SourceChanged(StorageError):
    """A local file changed while it was being copied."""

    code = 307
    kind = Kind.CONFLICT


class StorageExists(StorageError):
    """The target path exists and overwriting was not asked for."""

    code = 308
    kind = Kind.CONFLICT


class StorageElementExists(StorageError):
    """A storage element of that name is registered already (with another URL or role)."""

    code = 309
    kind = Kind.CONFLICT


class InvalidStorageElement(StorageError):
    """A storage element's name, URL, role, capacity or watermark is malformed."""

    code = 310
