"""Paths of a server-side mount at the server it comes from (``mounts.py``): a mount
point may stand for another path there (``--mount /sites/cern=amga://HOST:PORT/data``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bookkeeping.amga_adapter.query import QueryError, ast, parse_condition, parse_select_items

if TYPE_CHECKING:
    from bookkeeping.replication.mounts import Mount


@dataclass(frozen=True)
class Remote:
    """Paths of one mount at one of its servers: ``remote(path)`` there, ``back(path)``
    here, ``query(text)`` a query's absolute directory references rewritten."""

    mount: Mount
    root: str  # what the mount's prefix is at that server

    def __call__(self, path: str) -> str:
        return _swap(path, self.mount.prefix, self.root)

    def back(self, path: str) -> str:
        return _swap(path, self.root, self.mount.prefix)

    def query(self, text: str) -> str:
        if self.root == self.mount.prefix or not text.strip():
            return text
        # Directory references are written DIR:attribute; only absolute ones under the
        # mount change (relative ones resolve against the working directory, moved too).
        # Longest first, so /a/b:x is not rewritten as /a plus b:x.
        found = {ref.directory for ref in _refs(text) if ref.directory}
        for directory in sorted(found, key=len, reverse=True):
            if directory.startswith("/") and self.mount.covers(directory):
                text = re.sub(
                    rf"(?<![\w/.]){re.escape(directory)}:", _literal(self(directory) + ":"), text
                )
        return text


def _literal(replacement: str) -> str:
    return replacement.replace("\\", "\\\\")  # re.sub reads backslashes in it


def _swap(path: str, old: str, new: str) -> str:
    if path == old:
        return new
    if old == "/":
        return new.rstrip("/") + path if path.startswith("/") else path
    if path.startswith(old + "/"):
        return (new.rstrip("/") + path[len(old) :]) or "/"
    return path


def _refs(text: str) -> list[ast.AttributeRef]:
    """The attribute references of a query's condition or select item."""
    return [*condition_refs(text), *item_refs([text])]


def item_refs(items: Sequence[str]) -> list[ast.AttributeRef]:
    try:
        parsed = parse_select_items(list(items))
    except QueryError:
        return []  # the server that runs it names the problem
    return [ref for item in parsed for ref in ast.attribute_refs(item)]


def condition_refs(condition: str) -> list[ast.AttributeRef]:
    if not condition.strip():
        return []
    try:
        return list(ast.attribute_refs(parse_condition(condition)))
    except QueryError:
        return []
