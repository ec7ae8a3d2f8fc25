"""A Python AMGA client with the classic ``mdclient`` API and the Belle II refinements.

Classic use (execute, then read rows until ``eot()``)::

    client = MDClient("localhost", 8822, "alice", "secret")
    client.selectAttr(["/jobs:FILE", "/jobs:JOB_ID"], '/jobs:CONFIGNAME="MC"')
    while not client.eot():
        print(client.getSelectAttrEntry())

Refinements (seed 000): ``sync=True`` on listEntries/selectAttr/getattr/find returns the
complete result; ``selectQuery`` returns dicts; one client may be shared by threads (every
call holds the client's lock, and sync calls hold it across execute *and* fetch); TLS with a
client certificate (``requireSSL``); automatic reconnect when the server closed an idle
connection; session ids handed out by the server are resumed transparently.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from bookkeeping.amga_adapter.client.client_connection import (
    DEFAULT_PORT,
    CommandException,
    ConnectionLost,
    MDConnection,
    argument,
)
from bookkeeping.amga_adapter.protocol import quote

__all__ = ["DEFAULT_PORT", "CommandException", "ConnectionLost", "MDClient", "MDConnection"]


class MDClient(MDConnection):
    """One connection to an AMGA(-compatible) server, with the classic mdclient methods."""

    # -- directories and schema --------------------------------------------------------------

    def whoami(self) -> str:
        return self._single("whoami")

    def pwd(self) -> str:
        return self._single("pwd")

    def cd(self, dir: str) -> None:
        self._run("cd", dir)
        self._cwd = posixpath.normpath(posixpath.join(self._cwd, dir))

    def createDir(self, dir: str) -> None:
        self._run("createdir", dir)

    def createPlainDir(self, dir: str) -> None:
        self._run("createdir", dir, "plain")

    def removeDir(self, dir: str) -> None:
        self._run("rmdir", dir)

    def listEntries(self, pattern: str, sync: bool = False) -> list[tuple[str, str]] | None:
        """``dir``: then getEntry() gives (name, [type]); with sync, the whole listing."""
        with self._lock:
            self.execute("dir " + argument(pattern))
            self.nattrs = 1
            if not sync:
                return None
            return [(row[0] or "", row[1] or "") for row in self._rows(2)]

    def listAttr(self, file: str) -> tuple[list[str], list[str]]:
        with self._lock:
            self.execute("listattr " + argument(file))
            names, types = [], []
            for name, type_ in self._rows(2):
                names.append(name or "")
                types.append(type_ or "")
            return names, types

    def addAttr(self, file: str, name: str, t: str) -> None:
        self._run("addattr", file, name, t)

    def removeAttr(self, file: str, name: str) -> None:
        self._run("removeattr", file, name)

    def clearAttr(self, file: str, name: str) -> None:
        self._run("clearattr", file, name)

    # -- entries -----------------------------------------------------------------------------

    def addEntry(self, file: str, keys: Sequence[str], values: Sequence[object]) -> None:
        if len(keys) != len(values):
            raise ValueError("addEntry needs as many values as keys")
        pairs = " ".join(
            f"{argument(k)} {quote(str(v))}" for k, v in zip(keys, values, strict=True)
        )
        self.execute(f"addentry {argument(file)} {pairs}".rstrip())

    def addEntries(self, entries: Sequence[str]) -> None:
        self.execute("addentries " + " ".join(argument(entry) for entry in entries))

    def setAttr(self, file: str, keys: Sequence[str], values: Sequence[object]) -> None:
        if len(keys) != len(values):
            raise ValueError("setAttr needs as many values as keys")
        pairs = " ".join(f"{argument(k)} {quote(v)}" for k, v in zip(keys, values, strict=True))
        self.execute(f"setattr {argument(file)} {pairs}")

    def getattr(
        self, file: str, attributes: Sequence[str], sync: bool = False
    ) -> list[tuple[str, list[str | None]]] | None:
        with self._lock:
            self.execute(f"getattr {argument(file)} " + " ".join(argument(a) for a in attributes))
            self.nattrs = len(attributes)
            if not sync:
                return None
            return [(row[0] or "", row[1:]) for row in self._rows(1 + self.nattrs)]

    getAttr = getattr

    def getEntry(self) -> tuple[str | None, list[str | None]]:
        name, *values = self._values(1 + self.nattrs)
        return name, values

    def rm(self, path: str) -> None:
        self._run("rm", path)

    def find(self, pattern: str, query: str, sync: bool = False) -> list[str] | None:
        with self._lock:
            self.execute(f"find {argument(pattern)} {quote(query)}")
            self.nattrs = 1
            if not sync:
                return None
            return [row[0] or "" for row in self._rows(1)]

    def selectAttr(
        self, attributes: Sequence[str], query: str, sync: bool = False
    ) -> list[list[str | None]] | None:
        with self._lock:
            items = " ".join(argument(a) for a in attributes)
            self.execute(f"selectattr {items} {quote(query)}")
            self.nattrs = len(attributes)
            return list(self._rows(self.nattrs)) if sync else None

    def getSelectAttrEntry(self) -> list[str | None]:
        return self._values(self.nattrs)

    def selectQuery(self, attributes: Sequence[str], condition: str = "") -> list[dict]:
        """Rows of a selectattr as dicts keyed by the attributes as written."""
        rows = self.selectAttr(attributes, condition, sync=True) or []
        return [dict(zip(attributes, row, strict=True)) for row in rows]

    def updateAttr(self, pattern: str, updateExpr: Sequence[str], condition: str) -> None:
        self._update("updateattr", pattern, updateExpr, condition)

    def update(self, pattern: str, updateExpr: Sequence[str], condition: str) -> None:
        self._update("update", pattern, updateExpr, condition)

    def _update(self, verb: str, pattern: str, clauses: Sequence[str], condition: str) -> None:
        parts = [verb, argument(pattern)]
        for clause in clauses:
            attribute, expression = split_update_clause(clause)
            parts += [argument(attribute), quote(expression)]
        self.execute(" ".join([*parts, quote(condition)]))

    # -- bulk load and transactions ----------------------------------------------------------

    def upload(self, collection: str, attributes: Sequence[str]) -> None:
        """Start a bulk load; the server answers nothing until commit() or abort()."""
        with self._lock:
            self.executeNoWait(f"upload {argument(collection)} " + " ".join(attributes))
            self.nattrs = len(attributes)

    def put(self, file: str, values: Sequence[str]) -> None:
        """One row of an upload. As in mdclient, values are sent as written (quote values
        holding blanks yourself, e.g. with ``quote``)."""
        with self._lock:
            if len(values) != self.nattrs:
                raise CommandException(3, "put needs one value per uploaded attribute")
            self.executeNoWait(" ".join(["put", argument(file), *values]))

    def transaction(self) -> None:
        self.execute("transaction")

    def commit(self) -> None:
        self.execute("commit")

    def abort(self) -> None:
        self.execute("abort")

    # -- sequences and constraints -----------------------------------------------------------

    def sequenceCreate(self, name: str, directory: str, increment: int = 1, start: int = 1) -> None:
        self._run("sequence_create", name, directory, str(increment), str(start))

    def sequenceNext(self, name: str) -> str:
        return self._single("sequence_next " + argument(name))

    def sequenceRemove(self, name: str) -> None:
        self._run("sequence_remove", name)

    def constraintAddNotNull(self, directory: str, attribute: str, name: str = "") -> None:
        self._run("constraint_add_not_null", directory, attribute, *_optional(name))

    def constraintAddUnique(self, directory: str, attribute: str, name: str = "") -> None:
        self._run("constraint_add_unique", directory, attribute, *_optional(name))

    def constraintAddReference(
        self, directory: str, attribute: str, reffered_attr: str, name: str = ""
    ) -> None:
        self._run("constraint_add_reference", directory, attribute, reffered_attr, *_optional(name))

    def constraintAddCheck(self, directory: str, check: str, name: str = "") -> None:
        with self._lock:
            suffix = f" {argument(name)}" if name else ""
            self.execute(f"constraint_add_check {argument(directory)} {quote(check)}{suffix}")

    def constraintDrop(self, directory: str, name: str) -> None:
        self._run("constraint_drop", directory, name)

    def constraintList(self, directory: str) -> list[str]:
        with self._lock:
            self.execute("constraint_list " + argument(directory))
            return [row[0] or "" for row in self._rows(1)]

    # -- access control ----------------------------------------------------------------------

    def aclAdd(self, directory: str, principal: str, rights: str) -> None:
        self._run("acl_add", directory, principal, rights)

    def aclRemove(self, directory: str, principal: str) -> None:
        self._run("acl_remove", directory, principal)

    def aclShow(self, directory: str) -> list[tuple[str, str]]:
        with self._lock:
            self.execute("acl_show " + argument(directory))
            return [(row[0] or "", row[1] or "") for row in self._rows(2)]

    def chown(self, path: str, owner: str) -> None:
        self._run("chown", path, owner)

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, *words: str) -> None:
        self.execute(" ".join(argument(word) if i else word for i, word in enumerate(words)))

    def _single(self, command: str) -> str:
        with self._lock:
            self.execute(command)
            rows = [row[0] or "" for row in self._rows(1)]
            return rows[0] if rows else ""


def _optional(name: str) -> list[str]:
    return [name] if name else []


def split_update_clause(clause: str) -> tuple[str, str]:
    """``"Size 'Size+1'"`` -> ``("Size", "Size+1")`` (mdclient's update clause form)."""
    attribute, _, expression = clause.strip().partition(" ")
    expression = expression.strip()
    if not attribute or not expression:
        raise CommandException(3, f"invalid update clause {clause!r} (want: <attr> '<expr>')")
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        expression = expression[1:-1]
    return attribute.strip("'"), expression
