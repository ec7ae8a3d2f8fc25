"""The transport under ``MDClient``: connecting (plain or TLS), the login context, session
resume, sending commands and reading framed responses row by row.

``MDClient`` (``client.py``) adds the classic command methods on top of it.

Automatic reconnect never loses or repeats work silently:

- an idle connection the server already closed (idle timeout, restart) is noticed *before*
  the command is sent (the socket is readable while no response is due), so the command goes
  out once, on a fresh connection;
- when the connection breaks after a command was sent and before any byte of its reply, a
  read-only command is sent again; any other command may have run, so it is not re-sent and
  ``ConnectionLost`` says its outcome is unknown;
- inside an upload or a transaction there is no reconnect at all: the server rolled that
  work back when the connection went, so every command raises ``ConnectionLost`` saying so
  until ``commit`` (which raises it too: nothing was committed) or ``abort`` (which then
  succeeds without a round trip) acknowledges it.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Self
from urllib.parse import unquote, urlsplit

from bookkeeping.amga_adapter.protocol import (
    READ_ONLY_COMMANDS,
    command_word,
    quote,
    unescape_value,
)
from bookkeeping.amga_adapter.protocol.framing import ResponseDecoder
from bookkeeping.errors import BookkeepingError, Kind

DEFAULT_PORT = 8822
_RECV = 65536


class CommandException(BookkeepingError):
    """The server answered a command with a non-zero code (kept in ``code``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code  # type: ignore[misc]  # per-instance: the server's code
        self.server_message = message


class ConnectionLost(CommandException):
    """The connection broke; the message says whether the command may have run."""

    kind = Kind.UNAVAILABLE

    def __init__(self, message: str) -> None:
        super().__init__(-1, message)


class MDConnection:
    """One connection to an AMGA(-compatible) server: the wire, without the command API."""

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
        self._in_transaction = False
        self._in_upload = False
        self._lost: str | None = None  # work the server rolled back when the connection went
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
                    self._send(f"cd {argument(self._cwd)}\n")
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

    @property
    def cwd(self) -> str:
        """The working directory this client moved its session to (restored on reconnect)."""
        return self._cwd

    # -- raw execution -----------------------------------------------------------------------

    def execute(self, command: str) -> None:
        """Send a command and read its status line; raise CommandException on an error.
        The rows (if any) are then read with fetchRow()/eot()."""
        with self._lock:
            self._drain()
            self.currentCommand = command
            word = command_word(command)
            if self._acknowledge_loss(word):
                return
            ok = False
            try:
                try:
                    self._send_command(command)
                    status = self._read_status()
                except ConnectionLost as exc:
                    self._retry_or_raise(word, exc)
                    self._send_command(command)
                    status = self._read_status()
                self._check(status)
                ok = True
            finally:
                self._track(word, ok)

    def executeNoWait(self, command: str) -> None:
        """Send a command whose reply the server withholds (upload/put)."""
        with self._lock:
            self._drain()
            self.currentCommand = command
            word = command_word(command)
            if self._acknowledge_loss(word):
                return
            try:
                self._send_command(command, expect_reply=False)
            except ConnectionLost as exc:
                raise self._lose(exc) from None
            if word == "upload":
                self._in_upload = True

    # -- what a lost connection loses --------------------------------------------------------

    @property
    def _pinned(self) -> str | None:
        """The server-side work a reconnect would silently drop, if any."""
        if self._in_upload:
            return "an upload"
        return "a transaction" if self._in_transaction else None

    def _track(self, word: str, ok: bool) -> None:
        if word == "transaction" and ok:
            self._in_transaction = True
        elif word in {"commit", "abort"}:
            if self._in_upload:
                # Ending an upload ends the transaction it was part of, unless the upload
                # was refused (the server may keep a transaction the upload did not touch).
                self._in_upload = False
                self._in_transaction = self._in_transaction and not ok
            else:
                self._in_transaction = False

    def _lose(self, exc: ConnectionLost) -> ConnectionLost:
        """The connection went while work was pinned to it: remember, and say so."""
        pinned = self._pinned
        if pinned is None:
            return exc
        self._lost, self._in_upload, self._in_transaction = pinned, False, False
        self.disconnect()
        return self._loss_error()

    def _loss_error(self) -> ConnectionLost:
        return ConnectionLost(
            f"the connection to {self.host}:{self.port} was lost during {self._lost}: the "
            "server rolled it back, nothing of it was written; not reconnecting (abort, "
            "then start again)"
        )

    def _acknowledge_loss(self, word: str) -> bool:
        """After a loss: abort is done (True: nothing to send); commit clears it but fails;
        anything else fails and leaves it standing."""
        if self._lost is None:
            return False
        error = self._loss_error()
        if word in {"commit", "abort"}:
            self._lost = None
            if word == "abort":
                self._at_end = True
                return True
        raise error

    def _retry_or_raise(self, word: str, exc: ConnectionLost) -> None:
        """A command was sent and the connection broke before any byte of its reply."""
        if self._pinned is not None:
            raise self._lose(exc) from None
        if not self.auto_reconnect or self._decoder.pending:
            raise exc
        if word not in READ_ONLY_COMMANDS:
            raise ConnectionLost(
                f"{exc.server_message}; {word or 'the command'} may have run on the server, "
                "so it was not sent again: check its effect before retrying"
            ) from exc
        self.disconnect(saveSession=True)

    def fetchRow(self) -> str | None:
        """The next row of the current response, or None at its end."""
        with self._lock:
            if self._at_end:
                return None
            line = self._next_line()
            return None if line is None else unescape_value(line)

    def _values(self, count: int) -> list[str | None]:
        """The next ``count`` rows of the response as ``fetchRow`` gives them one by one
        (None past its end), taken from the decoder's lines in one step."""
        values: list[str | None] = []
        with self._lock:
            if not self._at_end and (row := self._decoder.row(count)) is not None:
                return row
            while len(values) < count and not self._at_end:
                lines = self._decoder.next_values(count - len(values))
                if lines:
                    values += lines  # nearly always the whole row at once
                    continue
                line = self._next_line()  # the end marker, or more bytes to receive
                if line is not None:
                    values.append(unescape_value(line))
        if len(values) < count:
            values += [None] * (count - len(values))
        return values

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
        if self._sock is not None and self._pinned is None:
            if not self.keepalive or (self.auto_reconnect and self._closed_by_server()):
                self.disconnect(saveSession=True)
        if self._sock is None:
            if self._pinned is not None:
                raise self._lose(ConnectionLost("not connected"))
            self.connect()
        elif self._pinned is not None and self._closed_by_server():
            raise self._lose(ConnectionLost(f"{self.host}:{self.port} closed the connection"))
        self._at_end = not expect_reply
        try:
            self._send(command + "\n")
        except OSError as exc:
            self.disconnect(saveSession=True)
            raise ConnectionLost(f"cannot send to {self.host}:{self.port}: {exc}") from exc

    def _closed_by_server(self) -> bool:
        """Between responses the server sends nothing, so a readable socket means it hung
        up (idle timeout, shutdown)."""
        sock = self._sock
        assert sock is not None
        if self._decoder.pending:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        sock.setblocking(False)
        try:
            if isinstance(sock, ssl.SSLSocket):
                # TLS 1.3 session tickets arrive after the handshake and make the socket
                # readable too: a read processes them and tells them from the end.
                data = sock.recv(1)
                self._decoder.feed(data)
            else:
                data = sock.recv(1, socket.MSG_PEEK)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except OSError:  # reset, or TLS close_notify: gone either way
            return True
        finally:
            sock.settimeout(self.timeout)
        return not data

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
        """The rows of the current response, ``width`` values each, parsed per received
        chunk rather than per value (as ``fetchRow`` would: a last, incomplete row is
        filled with None the same way)."""
        if width < 1:
            while not self.eot():
                yield []
            return
        values: list[str | None] = []
        while True:
            with self._lock:
                if self._at_end:
                    break
                lines = self._decoder.take_lines()
                if not lines:
                    kind = self._decoder.peek()
                    if kind == "end":
                        self._next_line()  # the end marker (and a parked session)
                    elif kind is None:
                        self._receive()
                    continue
            values.extend(line if "\\" not in line else unescape_value(line) for line in lines)
            whole = len(values) - len(values) % width
            for start in range(0, whole, width):
                yield values[start : start + width]
            del values[:whole]
        if values:
            yield values + [None] * (width - len(values))


def argument(word: str) -> str:
    """A path, attribute or type as an argument: quoted only when it must be."""
    if word and not any(char in word for char in " \t'\\\n\r"):
        return word
    return quote(word)
