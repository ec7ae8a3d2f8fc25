"""One client connection: prologue, login, then the request loop.

The loop is thin: parsing and formatting live in ``protocol``; catalogue work runs in the
server's worker threads; results go out batch by batch with ``drain()`` between batches so a
slow reader holds back the query instead of filling memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from bookkeeping import db_errors
from bookkeeping.amga_adapter.protocol import (
    NO_REPLY_COMMANDS,
    CommandAborted,
    LineTooLong,
    MalformedRequest,
    NotLoggedIn,
    Options,
    command_word,
    parse_context,
    parse_options,
    parse_request,
    responses,
)
from bookkeeping.amga_adapter.protocol import requests as rq
from bookkeeping.amga_adapter.server.dispatch import Group, dispatch
from bookkeeping.amga_adapter.server.lines import LineReader, TooLong
from bookkeeping.amga_adapter.server.logs import log_command, logger
from bookkeeping.amga_adapter.server.upload import Uploads
from bookkeeping.errors import BookkeepingError, InternalFailure

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.server.app import AmgaServer

T = TypeVar("T")
_INTERNAL_ERROR = InternalFailure.code
_PROLOGUE_LINE = 4096


class _StreamBroken(Exception):
    """The engine failed after the success header went out: the response cannot be ended
    honestly, so the connection is dropped (the client sees a lost connection)."""


class Connection:
    def __init__(
        self, server: AmgaServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.settings = server.settings
        self.reader, self.writer = reader, writer
        self.lines = LineReader(reader, max_line=self.settings.max_line)
        self.session: Any = None
        self.user = "-"
        self.login_error: BookkeepingError | None = None
        self.ssl = False
        self.uploads = Uploads(
            server.run, batch=self.settings.upload_batch, max_line=self.settings.max_line
        )
        self.stopping = asyncio.Event()
        self.parked = False
        self.busy = False
        self.line_number = 0  # lines consumed; the CAN bookkeeping counts the same way

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if await self._prologue():
                await self._loop()
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the peer went away, stalled, or failed the TLS handshake
        except _StreamBroken:
            logger.warning("dropped connection of %s: result stream failed", self.user)
        finally:
            await self.lines.stop()
            if self.session is not None and not self.parked:
                await self.server.run(self.session.close)
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    def request_stop(self) -> None:
        """Finish the command in flight (if any), then close."""
        self.stopping.set()

    # -- prologue ----------------------------------------------------------------------------

    async def _prologue(self) -> bool:
        self.writer.write(responses.greeting(self.server.identification))
        await self.writer.drain()
        try:
            options = parse_options(await self._raw_block())
        except MalformedRequest as exc:
            self.writer.write(f"ERROR {exc.message}\n".encode())
            return False
        if options.ssl and self.server.tls is None:
            self.writer.write(b"ERROR this server does not offer TLS\n")
            return False
        if options.expects_reply:
            self.writer.write(b"OK\n")
            await self.writer.drain()
        if options.ssl:
            assert self.server.tls is not None  # refused above without a TLS context
            await self.writer.start_tls(self.server.tls)
            self.ssl = True
        self.lines.start()
        if options.expects_context:
            await self._login()
        else:
            self._resume(options)
        return True

    async def _raw_block(self) -> list[str]:
        """Lines up to the empty line, read directly (TLS may start right after)."""
        lines: list[str] = []
        timeout = self.settings.idle_timeout
        while True:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
            if not raw:
                raise ConnectionError("closed during the prologue")
            line = raw.decode("utf-8", "replace").strip("\r\n")
            if not line:
                return lines
            if len(lines) > 16 or len(raw) > _PROLOGUE_LINE:
                raise ConnectionError("oversized prologue")
            lines.append(line)

    async def _login(self) -> None:
        lines: list[str] = []
        while (line := await self._next_line()) != "":
            if line is None:
                raise ConnectionError("closed or idle during login")
            if not isinstance(line, TooLong):
                lines.append(line)
        context = parse_context(lines)
        dn = _subject_dn(self.writer.get_extra_info("peercert")) if self.ssl else None
        catalogue = self.server.catalogue
        try:
            if context.password is not None:
                user = await self.server.run(
                    catalogue.authenticate, context.login, context.password
                )
            elif dn is not None:
                user = await self.server.run(catalogue.user_for_dn, dn)
            else:
                user = await self.server.run(catalogue.authenticate, context.login, None)
            # A catalogue with mounts (bookkeeping.replication.mounts) passes the caller's
            # password on to the servers it mounts.
            login_session = getattr(catalogue, "login_session", None)
            if login_session is not None:
                self.session = await self.server.run(login_session, user, context.password)
            else:
                self.session = await self.server.run(catalogue.session, user)
            self.user = user
        except BookkeepingError as exc:
            self.user = context.login
            self.login_error = exc
        except sa.exc.DBAPIError as exc:  # the database is down: the login error says so
            self.user = context.login
            self.login_error = db_errors.translate(exc, "the login")

    def _resume(self, options: Options) -> None:
        assert options.resume is not None
        session = self.server.sessions.resume(options.resume, ssl=options.ssl)
        if session is None:
            self.login_error = NotLoggedIn(f"session {options.resume} is unknown or expired")
        else:
            self.session, self.user = session, session.user

    # -- request loop ------------------------------------------------------------------------

    async def _next_line(self) -> str | TooLong | None:
        getter = asyncio.ensure_future(self.lines.lines.get())
        stopper = asyncio.ensure_future(self.stopping.wait())
        try:
            done, _ = await asyncio.wait(
                {getter, stopper},
                timeout=self.settings.idle_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopper.cancel()
        if getter in done:
            line = getter.result()
            if line is not None:
                self.line_number += 1
            return line
        getter.cancel()
        return None

    async def _loop(self) -> None:
        while not self.stopping.is_set():
            line = await self._next_line()
            if line is None:
                return
            self.busy = True
            try:
                if not await self._handle(line):
                    return
            finally:
                self.busy = False

    async def _handle(self, line: str | TooLong) -> bool:
        """Answer one request line; False means: close the connection now."""
        started = time.monotonic()
        command = command_word(line.head if isinstance(line, TooLong) else line)
        rows, code, keep_open = 0, 0, True
        try:
            if self.login_error is not None:
                if command in NO_REPLY_COMMANDS:
                    return True  # never answered: the next command gets the login error
                keep_open = False
                raise self.login_error
            if self.uploads.owns(command):
                reply = await self.uploads.line(self.session, line, command)
                if reply is None:
                    return True
                code = reply.code
                if code:
                    self.writer.write(responses.error(code, reply.message))
                else:
                    self.writer.write(responses.success() + self._end())
            elif (stray := self.uploads.take_stray(command)) is not None:
                code = stray.code
                self.writer.write(responses.error(stray.code, stray.message))
            else:
                if isinstance(line, TooLong):
                    limit = self.settings.max_line
                    raise LineTooLong(f"request line of {line.length} bytes exceeds {limit}")
                rows = await self._execute(parse_request(line))
            if self.parked:  # the reply handed the session out: the client reconnects
                keep_open = False
        except BookkeepingError as exc:
            code = exc.code or 1
            self.writer.write(responses.error(code, exc.message))
        except _StreamBroken:
            code = _INTERNAL_ERROR
            raise
        except sa.exc.DBAPIError as exc:  # one the engine let through: by its database code
            error = db_errors.translate(exc, command or "the command")
            code = error.code
            self.writer.write(responses.error(code, error.message))
        except Exception as exc:  # a bug or an untranslated driver error: report, keep serving
            logger.exception("internal error on %r", command)
            code = _INTERNAL_ERROR
            message = f"internal server error ({type(exc).__name__})"
            self.writer.write(responses.error(code, message))
        finally:
            log_command(self.user, command or "-", time.monotonic() - started, rows, code)
        await self.writer.drain()
        return keep_open

    def _cancelled(self) -> bool:
        return self.lines.cancel_mark >= self.line_number

    def _end(self) -> bytes:
        if self._should_park():
            self.parked = True
            return responses.end(self.server.sessions.park(self.session, ssl=self.ssl))
        return responses.end()

    def _should_park(self) -> bool:
        return (
            self.settings.release_sessions
            and self.session is not None
            and not self.uploads.active
            and not self.session.in_transaction
        )

    async def _execute(self, request: rq.Request) -> int:
        async with self.server.db_slots:
            return await self._execute_in_slot(request)

    async def _execute_in_slot(self, request: rq.Request) -> int:
        batch_size = self.settings.stream_batch
        # CAN is honoured only where that is the truth: a command not yet started is not
        # run; once it ran (a write may have committed) its real outcome is reported, and a
        # CAN can only cut a streaming result short.
        if self._cancelled():
            raise CommandAborted("command aborted by the client (CAN) before it ran")
        # One worker-thread hop for the common case: run, fetch the first batch, and close
        # the result at once when it fits in that batch.
        data, count, groups = await self.server.run(_start, self.session, request, batch_size)
        try:
            if groups is None:  # the whole result in one write
                self.writer.write(responses.success() + data + self._end())
                return count
            self.writer.write(responses.success() + data)
            total = count
            while count == batch_size and not self._cancelled():
                await self.writer.drain()
                try:
                    data, count = await self.server.run(_format_batch, groups, batch_size)
                except Exception as exc:
                    raise _StreamBroken() from exc
                self.writer.write(data)
                total += count
            self.writer.write(self._end())
            return total
        finally:
            if groups is not None:
                await self.server.run(_close, groups)


def _start(
    session: Any, request: rq.Request, size: int
) -> tuple[bytes, int, Iterator[Group] | None]:
    """Run a request and format its first batch; the iterator comes back only if more rows
    may follow (otherwise it is closed here, releasing its connection)."""
    groups = dispatch(session, request).groups
    try:
        data, count = _format_batch(groups, size)
    except BaseException:
        _close(groups)
        raise
    if count < size:
        _close(groups)
        return data, count, None
    return data, count, groups


def _close(groups: Iterator[Group]) -> None:
    close = getattr(groups, "close", None)
    if close is not None:
        close()


def _format_batch(groups: Iterator[Group], size: int) -> tuple[bytes, int]:
    """The next ``size`` groups as response bytes: fetched by the batch from a stream that
    can (``take``), formatted column by column (``responses.table``)."""
    take = getattr(groups, "take", None)
    batch = take(size) if take is not None else list(islice(groups, size))
    return responses.table(batch), len(batch)


_DN_NAMES = {
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "commonName": "CN",
    "domainComponent": "DC",
    "emailAddress": "emailAddress",
    "userId": "UID",
}


def _subject_dn(peercert: dict[str, Any] | None) -> str | None:
    """The certificate subject in the grid's slash form: ``/DC=org/O=Belle/CN=alice``."""
    if not peercert or "subject" not in peercert:
        return None
    parts = [
        f"/{_DN_NAMES.get(key, key)}={value}" for rdn in peercert["subject"] for key, value in rdn
    ]
    return "".join(parts) or None
