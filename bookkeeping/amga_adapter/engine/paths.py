"""Catalogue paths, names and entry-name patterns (pure functions, no I/O)."""

from __future__ import annotations

import posixpath

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.errors import InvalidName, InvalidPattern
from bookkeeping.amga_adapter.query.constructs import case_sensitive_like
from bookkeeping.amga_adapter.query.patterns import glob_to_like

MAX_NAME = 255
MAX_PATH = 700  # the directory path column's width (unique index inside MariaDB's key limit)
PATTERN_CHARACTERS = frozenset("*?")


def normalise(path: str, cwd: str = "/") -> str:
    """Absolute, normalised form of ``path`` seen from ``cwd`` (``.``/``..`` resolved)."""
    if "\x00" in path:
        raise InvalidName("a path may not contain a NUL character")
    if not path.strip():
        path = "."
    joined = path if path.startswith("/") else posixpath.join(cwd, path)
    # posixpath keeps a leading "//"; the catalogue has one root.
    result = "/" + posixpath.normpath(joined).lstrip("/")
    return result


def split(path: str) -> tuple[str, str]:
    """``/a/b/c`` -> (``/a/b``, ``c``); the root has no parent."""
    if path == "/":
        raise InvalidName("the root directory has no name")
    parent, name = posixpath.split(path)
    return parent or "/", name


def join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def check_name(kind: str, name: str) -> str:
    """A directory or entry name: 1..255 characters, no '/', NUL or pattern characters."""
    if not name or name in {".", ".."}:
        raise InvalidName(f"invalid {kind} name {name!r}")
    if len(name) > MAX_NAME:
        raise InvalidName(f"{kind} name longer than {MAX_NAME} characters: {name[:40]!r}...")
    bad = set(name) & (PATTERN_CHARACTERS | {"/", "\x00"})
    if bad:
        raise InvalidName(f"{kind} name {name!r} contains {''.join(sorted(bad))!r}")
    return name


def check_attribute_name(name: str) -> str:
    """Attribute names are case-preserving and may be SQL reserved words; the catalogue
    never uses them as identifiers, so only length, NUL and the ':' separator are limited."""
    if not name or not name.strip():
        raise InvalidName("an attribute name may not be empty")
    if len(name) > MAX_NAME:
        raise InvalidName(f"attribute name longer than {MAX_NAME} characters: {name[:40]!r}...")
    if "\x00" in name or ":" in name or "/" in name:
        raise InvalidName(f"attribute name {name!r} may not contain NUL, ':' or '/'")
    if name.upper() == "FILE":
        raise InvalidName("'FILE' is the entry-name pseudo-attribute; choose another name")
    return name


def is_pattern(name: str) -> bool:
    return bool(set(name) & PATTERN_CHARACTERS)


def name_matches(column: sa.ColumnElement[str], glob: str) -> sa.ColumnElement[bool]:
    """``column`` matches the ``*``/``?`` pattern, case-sensitively on every back-end."""
    return case_sensitive_like(column, glob_to_like(glob)[0])


def strictly_below(column: sa.ColumnElement[str], path: str) -> sa.ColumnElement[bool]:
    """``column`` (a directory path) lies strictly below ``path``."""
    prefix = glob_to_like(path.rstrip("/") + "/")[0]
    return case_sensitive_like(column, prefix + "%")


def require_single(path: str) -> str:
    if is_pattern(path):
        raise InvalidPattern(f"{path!r} is a pattern; this operation needs one path")
    return path
