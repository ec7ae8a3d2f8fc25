"""Paths on a storage element: absolute POSIX-style names below the element's root.

``normalise`` is the one gate every back-end passes a caller's path through: it refuses
anything that could name a place outside the element (``..``, NUL, a URL scheme, a
backslash) with ``UnsafePath`` naming the element and the path, and returns the canonical
form (``/a/b``: one leading slash, no empty or ``.`` segments, no trailing slash).
"""

from __future__ import annotations

import re

from bookkeeping.storage.errors import UnsafePath

MAX_PATH_LENGTH = 1024
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def normalise(path: object, element: str = "", *, allow_root: bool = False) -> str:
    """The canonical form of ``path`` on the element ``element`` (named in errors)."""
    where = f" on storage element {element}" if element else ""
    if not isinstance(path, str):
        raise UnsafePath(f"path{where} must be a string, not {type(path).__name__}")
    if "\x00" in path:
        raise UnsafePath(f"path {path!r}{where} contains a NUL byte", se=element, path=path)
    if "\\" in path:
        raise UnsafePath(f"path {path!r}{where} contains a backslash", se=element, path=path)
    if _SCHEME.match(path) or "://" in path:
        raise UnsafePath(
            f"path {path!r}{where} is a URL; give a path below the element's root",
            se=element,
            path=path,
        )
    if len(path) > MAX_PATH_LENGTH:
        raise UnsafePath(
            f"path{where} is longer than {MAX_PATH_LENGTH} characters", se=element, path=path
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(
            f"path {path!r}{where} escapes the element's root (..)", se=element, path=path
        )
    if not parts and not allow_root:
        raise UnsafePath(f"path {path!r}{where} names no file", se=element, path=path)
    return "/" + "/".join(parts)


def parent(path: str) -> str:
    """The directory of a normalised path (``/`` for a top-level name)."""
    head = path.rsplit("/", 1)[0]
    return head or "/"


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]
