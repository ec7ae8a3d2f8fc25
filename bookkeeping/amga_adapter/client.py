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
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from typing import Self
from urllib.parse import unquote, urlsplit

from bookkeeping.amga_adapter.protocol import quote, unescape_value
from bookkeeping.amga_adapter.protocol.framing import ResponseDecoder
from bookkeeping.errors import BookkeepingError

DEFAULT_PORT = 8822
_RECV = 65536


class CommandException(BookkeepingError):
    """The server answered a command with a non-zero code (kept in ``code``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code  # type: ignore[misc]  # per-instance: the server's code
        self.server_message = message


class ConnectionLost(CommandException):
    def __init__(self, message: str) -> None:
        super().__init__(-1, message)


class MDClient:
    """One connection to an AMGA(-compatible) server."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        login: str = "anonymous",
        password: str = "",
        keepalive: bool = True,
        *,
        timeout: float | None = 60.0,
        auto_reconnect: bool = True,
    ) -> None:
        self.host, self.port, self.login, self.password = host, port, login, password
        self.keepalive = keepalive
        self.timeout = timeout
        self.auto_reconnect = auto_reconnect
        self.greetings = ""
        self.protocolVersion = 0
        self.sessionID = 0
        self.currentCommand = ""
        self.nattrs = 0
        self._ssl_context: ssl.SSLContext | None = None
        self._sock: socket.socket | None = None
        self._decoder = ResponseDecoder()
        self._at_end = True
        self._cwd = "/"
        self._pinned = False  # transaction or upload open: never reconnect silently
        self._lock = threading.RLock()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, password: str | None = None, **options: object) -> Self:
        """``amga://user[:password]@host[:port]``; ``amgas://`` asks for TLS."""
        parts = urlsplit(url)
        if parts.scheme not in {"amga", "amgas"} or not parts.hostname:
            raise ValueError(f"not an AMGA URL (amga://user@host:port): {url!r}")
        secret = password if password is not None else unquote(parts.password or "")
        client = cls(
            parts.hostname,
            parts.port or DEFAULT_PORT,
            unquote(parts.username or "anonymous"),
            secret,
            **options,  # type: ignore[arg-type]
        )
        if parts.scheme == "amgas":
            client.requireSSL()
        return client

    def requireSSL(
        self,
        key: str | None = None,
        cert: str | None = None,
        ca: str | None = None,
        *,
        verify: bool | None = None,
    ) -> None:
        """Use TLS; ``cert``/``key`` log in with a client certificate. The server is verified
        against ``ca`` when given (or when ``verify`` is true, against the system store)."""
        context = ssl.create_default_context(cafile=ca)
        if not (verify if verify is not None else ca is not None):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert:
            context.load_cert_chain(cert, key)
        self._ssl_context = context

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connection --------------------------------------------------------------------------

    def connect(self) -> None:
        with self._lock:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._decoder = sock, ResponseDecoder()
            self.greetings = "".join(self._read_line() + "\n" for _ in range(3))
            marker = self.greetings.find("\nProtocol ")
            self.protocolVersion = int(self.greetings[marker + 10]) if marker > -1 else 1
            self._decoder.protocol_version = self.protocolVersion
            tls = self._ssl_context is not None
            if self.sessionID:
                self._send(f"resume{'SSL' if tls else ''}{self.sessionID}\n\n")
                if tls:
                    self._read_line()  # OK, then the handshake
                    self._start_tls()
                self.sessionID = 0
            else:
                self._send("ssl\n\n" if tls else "plain\n\n")
                self._read_line()  # OK
                if tls:
                    self._start_tls()
                context = f"0 {self.login}\n"
                if self.password:
                    context += f"5 {self.password}\n"
                self._send(context + "\n")  # the server never answers this
                if self._cwd != "/":
                    # A fresh login after a lost connection: restore the working directory.
                    self._send(f"cd {_arg(self._cwd)}\n")
                    self._at_end = False
                    self._check(self._read_status())
                    self._drain()
            self._at_end = True

    def _start_tls(self) -> None:
        assert self._sock is not None and self._ssl_context is not None
        self._sock = self._ssl_context.wrap_socket(self._sock, server_hostname=self.host)

    def disconnect(self, saveSession: bool = False) -> None:
        with self._lock:
            if self._sock is not None:
                try:
                    self._sock.close()
                finally:
                    self._sock = None
            self._at_end = True
            if not saveSession:
                self.sessionID = 0

    def close(self) -> None:
        self.disconnect()

    @property
    def connected(self) -> bool:
        return self._sock is not None

    # -- raw execution -----------------------------------------------------------------------

    def execute(self, command: str) -> None:
        """Send a command and read its status line; raise CommandException on an error.
        The rows (if any) are then read with fetchRow()/eot()."""
        with self._lock:
            self._drain()
            self.currentCommand = command
            attempt_again = self.auto_reconnect and not self._pinned
            try:
                self._send_command(command)
                status = self._read_status()
            except ConnectionLost:
                if not attempt_again or self._decoder.pending:  # retry only if nothing came
                    raise
                self.disconnect(saveSession=True)
                self._send_command(command)
                status = self._read_status()
            self._check(status)

    def executeNoWait(self, command: str) -> None:
        """Send a command whose reply the server withholds (upload/put)."""
        with self._lock:
            self._drain()
            self.currentCommand = command
            self._send_command(command, expect_reply=False)

    def fetchRow(self) -> str | None:
        """The next row of the current response, or None at its end."""
        with self._lock:
            if self._at_end:
                return None
            line = self._next_line()
            return None if line is None else unescape_value(line)

    def eot(self) -> bool:
        """True when the current response has no more rows."""
        with self._lock:
            if self._at_end:
                return True
            while (kind := self._decoder.peek()) is None:
                self._receive()
            if kind == "end":
                self._next_line()
                return True
            return False

    def cancel(self) -> None:
        """Ask the server to stop sending the current response (CAN); the rows already
        sent still arrive and are read (or discarded by the next command) up to its end."""
        with self._lock:
            if not self._at_end and self._sock is not None:
                self._send("\x18")

    def _send_command(self, command: str, *, expect_reply: bool = True) -> None:
        if "\n" in command:
            raise ValueError("a command is one line; quote values with newlines")
        if self._sock is None or not self.keepalive:
            self.disconnect(saveSession=True)
            self.connect()
        self._at_end = not expect_reply
        try:
            self._send(command + "\n")
        except OSError as exc:
            self.disconnect(saveSession=True)
            raise ConnectionLost(f"cannot send to {self.host}:{self.port}: {exc}") from exc

    def _read_status(self) -> str:
        line = self._next_line()
        if line is None:
            raise CommandException(-1, "the server ended the response without a status line")
        return line

    def _check(self, status: str) -> None:
        code_text, _, message = status.partition(" ")
        try:
            code = int(code_text)
        except ValueError:
            self.disconnect()
            raise CommandException(-1, f"unexpected status line {status!r}") from None
        if code != 0:
            self._drain()
            raise CommandException(code, unescape_value(message))

    def _drain(self) -> None:
        while not self._at_end:
            if self._next_line() is None:
                break

    def _next_line(self) -> str | None:
        """The next line of the response, or None (and the response is over) at its end."""
        while (event := self._decoder.next_event()) is None:
            self._receive()
        if isinstance(event, str):
            return event
        self._at_end = True
        if event.session_id is not None:
            # The server parked our session: reconnect and resume it on the next command.
            self.sessionID = event.session_id
            self.disconnect(saveSession=True)
        return None

    def _receive(self) -> None:
        if self._sock is None:
            raise ConnectionLost("not connected")
        try:
            data = self._sock.recv(_RECV)
        except OSError as exc:
            self.disconnect(saveSession=True)
            raise ConnectionLost(f"connection to {self.host}:{self.port} failed: {exc}") from exc
        if not data:
            self.disconnect(saveSession=True)
            raise ConnectionLost(f"{self.host}:{self.port} closed the connection")
        self._decoder.feed(data)

    def _read_line(self) -> str:
        while (line := self._decoder.take_line()) is None:
            self._receive()
        return line

    def _send(self, text: str) -> None:
        assert self._sock is not None
        self._sock.sendall(text.encode())

    def _rows(self, width: int) -> Iterator[list[str | None]]:
        while not self.eot():
            yield [self.fetchRow() for _ in range(width)]

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
            self.execute("dir " + _arg(pattern))
            self.nattrs = 1
            if not sync:
                return None
            return [(row[0] or "", row[1] or "") for row in self._rows(2)]

    def listAttr(self, file: str) -> tuple[list[str], list[str]]:
        with self._lock:
            self.execute("listattr " + _arg(file))
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
        pairs = " ".join(f"{_arg(k)} {quote(str(v))}" for k, v in zip(keys, values, strict=True))
        self.execute(f"addentry {_arg(file)} {pairs}".rstrip())

    def addEntries(self, entries: Sequence[str]) -> None:
        self.execute("addentries " + " ".join(_arg(entry) for entry in entries))

    def setAttr(self, file: str, keys: Sequence[str], values: Sequence[object]) -> None:
        if len(keys) != len(values):
            raise ValueError("setAttr needs as many values as keys")
        pairs = " ".join(f"{_arg(k)} {quote(v)}" for k, v in zip(keys, values, strict=True))
        self.execute(f"setattr {_arg(file)} {pairs}")

    def getattr(
        self, file: str, attributes: Sequence[str], sync: bool = False
    ) -> list[tuple[str, list[str | None]]] | None:
        with self._lock:
            self.execute(f"getattr {_arg(file)} " + " ".join(_arg(a) for a in attributes))
            self.nattrs = len(attributes)
            if not sync:
                return None
            return [(row[0] or "", row[1:]) for row in self._rows(1 + self.nattrs)]

    getAttr = getattr

    def getEntry(self) -> tuple[str | None, list[str | None]]:
        with self._lock:
            name = self.fetchRow()
            return name, [self.fetchRow() for _ in range(self.nattrs)]

    def rm(self, path: str) -> None:
        self._run("rm", path)

    def find(self, pattern: str, query: str, sync: bool = False) -> list[str] | None:
        with self._lock:
            self.execute(f"find {_arg(pattern)} {quote(query)}")
            self.nattrs = 1
            if not sync:
                return None
            return [row[0] or "" for row in self._rows(1)]

    def selectAttr(
        self, attributes: Sequence[str], query: str, sync: bool = False
    ) -> list[list[str | None]] | None:
        with self._lock:
            items = " ".join(_arg(a) for a in attributes)
            self.execute(f"selectattr {items} {quote(query)}")
            self.nattrs = len(attributes)
            return list(self._rows(self.nattrs)) if sync else None

    def getSelectAttrEntry(self) -> list[str | None]:
        with self._lock:
            return [self.fetchRow() for _ in range(self.nattrs)]

    def selectQuery(self, attributes: Sequence[str], condition: str = "") -> list[dict]:
        """Rows of a selectattr as dicts keyed by the attributes as written."""
        rows = self.selectAttr(attributes, condition, sync=True) or []
        return [dict(zip(attributes, row, strict=True)) for row in rows]

    def updateAttr(self, pattern: str, updateExpr: Sequence[str], condition: str) -> None:
        self._update("updateattr", pattern, updateExpr, condition)

    def update(self, pattern: str, updateExpr: Sequence[str], condition: str) -> None:
        self._update("update", pattern, updateExpr, condition)

    def _update(self, verb: str, pattern: str, clauses: Sequence[str], condition: str) -> None:
        parts = [verb, _arg(pattern)]
        for clause in clauses:
            attribute, expression = split_update_clause(clause)
            parts += [_arg(attribute), quote(expression)]
        self.execute(" ".join([*parts, quote(condition)]))

    # -- bulk load and transactions ----------------------------------------------------------

    def upload(self, collection: str, attributes: Sequence[str]) -> None:
        """Start a bulk load; the server answers nothing until commit() or abort()."""
        with self._lock:
            self.executeNoWait(f"upload {_arg(collection)} " + " ".join(attributes))
            self.nattrs = len(attributes)
            self._pinned = True

    def put(self, file: str, values: Sequence[str]) -> None:
        """One row of an upload. As in mdclient, values are sent as written (quote values
        holding blanks yourself, e.g. with ``quote``)."""
        with self._lock:
            if len(values) != self.nattrs:
                raise CommandException(3, "put needs one value per uploaded attribute")
            self.executeNoWait(" ".join(["put", _arg(file), *values]))

    def transaction(self) -> None:
        with self._lock:
            self.execute("transaction")
            self._pinned = True

    def commit(self) -> None:
        with self._lock:
            try:
                self.execute("commit")
            finally:
                self._pinned = False

    def abort(self) -> None:
        with self._lock:
            try:
                self.execute("abort")
            finally:
                self._pinned = False

    # -- sequences and constraints -----------------------------------------------------------

    def sequenceCreate(self, name: str, directory: str, increment: int = 1, start: int = 1) -> None:
        self._run("sequence_create", name, directory, str(increment), str(start))

    def sequenceNext(self, name: str) -> str:
        return self._single("sequence_next " + _arg(name))

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
            suffix = f" {_arg(name)}" if name else ""
            self.execute(f"constraint_add_check {_arg(directory)} {quote(check)}{suffix}")

    def constraintDrop(self, directory: str, name: str) -> None:
        self._run("constraint_drop", directory, name)

    def constraintList(self, directory: str) -> list[str]:
        with self._lock:
            self.execute("constraint_list " + _arg(directory))
            return [row[0] or "" for row in self._rows(1)]

    # -- access control ----------------------------------------------------------------------

    def aclAdd(self, directory: str, principal: str, rights: str) -> None:
        self._run("acl_add", directory, principal, rights)

    def aclRemove(self, directory: str, principal: str) -> None:
        self._run("acl_remove", directory, principal)

    def aclShow(self, directory: str) -> list[tuple[str, str]]:
        with self._lock:
            self.execute("acl_show " + _arg(directory))
            return [(row[0] or "", row[1] or "") for row in self._rows(2)]

    def chown(self, path: str, owner: str) -> None:
        self._run("chown", path, owner)

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, *words: str) -> None:
        self.execute(" ".join(_arg(word) if i else word for i, word in enumerate(words)))

    def _single(self, command: str) -> str:
        with self._lock:
            self.execute(command)
            rows = [row[0] or "" for row in self._rows(1)]
            return rows[0] if rows else ""


def _arg(word: str) -> str:
    """A path, attribute or type as an argument: quoted only when it must be."""
    if word and not any(char in word for char in " \t'\\\n\r"):
        return word
    return quote(word)


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
