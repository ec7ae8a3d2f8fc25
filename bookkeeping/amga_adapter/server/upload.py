"""Bulk upload on one connection: ``upload <dir> <attr>...``, ``put <name> <value>...``
(repeated), then ``commit`` or ``abort``.

AMGA clients send ``upload`` and every ``put`` with ``executeNoWait``: they read nothing
until ``commit``. So nothing may ever be answered to those lines, or the client would read
that reply as the answer to its commit and stay one response behind for good. Every problem
of an upload (broken quoting in a put, a wrong value count, a second ``upload``, an over-long
put, an engine error while a batch is written) is recorded instead, and the reply to
``commit`` refuses the whole upload, naming the first problem; nothing of it is written.

A ``put`` outside an upload cannot be answered either (mdclient's ``executeNoWait`` peeks
for a reply with ``MSG_PEEK``, a name it never imports, so it never sees one). Its error is
held and becomes the reply to the next command that waits for one; that command is not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bookkeeping.amga_adapter.protocol import (
    LineTooLong,
    ProtocolError,
    UploadError,
    parse_request,
)
from bookkeeping.amga_adapter.protocol import requests as rq
from bookkeeping.amga_adapter.server.lines import TooLong
from bookkeeping.amga_adapter.server.logs import logger
from bookkeeping.errors import BookkeepingError, InternalFailure

Run = Callable[..., Awaitable[Any]]
_INTERNAL_ERROR = InternalFailure.code


@dataclass(frozen=True)
class Reply:
    """The reply to a line of upload traffic: code 0 is success."""

    code: int
    message: str = ""


DONE = Reply(0)


@dataclass
class Upload:
    directory: str | None  # None: the upload line itself did not parse
    attributes: tuple[str, ...]
    began: bool  # the upload opened the transaction (none was open)
    rows: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    puts: int = 0  # put lines seen
    written: int = 0  # rows already sent to the engine (inside the transaction)
    problem: Reply | None = None

    def fail(self, code: int, message: str) -> None:
        if self.problem is None:  # the first problem is the one worth reading
            self.problem = Reply(code or _INTERNAL_ERROR, message)
            self.rows.clear()

    def refusal(self) -> Reply:
        assert self.problem is not None
        target = f"upload to {self.directory}" if self.directory else "upload"
        return Reply(
            self.problem.code, f"{target} refused, nothing was written: {self.problem.message}"
        )


@dataclass
class StrayPuts:
    """``put`` lines that arrived with no upload open."""

    count: int = 0
    first: str = ""

    def describe(self) -> str:
        return f"put outside an upload: {self.count} put line(s) ignored (first: {self.first})"


class Uploads:
    """The upload state of one connection, and the lines that belong to it."""

    def __init__(self, run: Run, *, batch: int, max_line: int) -> None:
        self._run = run
        self._batch = batch
        self._max_line = max_line
        self.current: Upload | None = None
        self.stray: StrayPuts | None = None

    @property
    def active(self) -> bool:
        return self.current is not None

    def owns(self, command: str) -> bool:
        """Whether this line is upload traffic (the connection passes it to :meth:`line`)."""
        return self.current is not None or command in rq.NO_REPLY_COMMANDS

    def take_stray(self, command: str) -> Reply | None:
        """The error of earlier stray puts, to answer the command now arriving instead."""
        stray, self.stray = self.stray, None
        if stray is None:
            return None
        return Reply(UploadError.code, f"{stray.describe()}; {command or 'it'} was not run")

    async def line(self, session: Any, line: str | TooLong, command: str) -> Reply | None:
        """Handle one line of upload traffic; the reply to send, or None (send nothing)."""
        if command not in rq.NO_REPLY_COMMANDS and command not in {"commit", "abort"}:
            return self._interloper(command)
        try:
            request = self._parse(line)
        except ProtocolError as exc:
            if command in {"commit", "abort"}:  # the client reads this reply: end it all
                message = f"{exc.message}; the upload was aborted, nothing was written"
                return await self._end_with(session, Reply(exc.code, message))
            self._record_bad_line(command, exc)
            return None
        if isinstance(request, rq.Upload):
            await self._open(session, request)
            return None
        if isinstance(request, rq.Put):
            await self._put(session, request)
            return None
        if isinstance(request, rq.Commit):
            return await self._commit(session)
        return await self._abort(session)

    # -- lines -------------------------------------------------------------------------------

    def _parse(self, line: str | TooLong) -> rq.Request:
        if isinstance(line, TooLong):
            raise LineTooLong(f"a line of {line.length} bytes exceeds {self._max_line}")
        return parse_request(line)

    def _record_bad_line(self, command: str, exc: ProtocolError) -> None:
        upload = self.current
        if upload is None and command == "upload":
            # The upload line itself is broken: what follows is still this upload's traffic.
            self.current = upload = self._new_upload(None, (), began=False)
        if upload is None:
            self._stray(f"an unreadable put ({exc.message})")
            return
        if command == "put":
            upload.puts += 1
            upload.fail(exc.code, f"put #{upload.puts}: {exc.message}")
        else:
            upload.fail(exc.code, f"a second upload line: {exc.message}")

    def _interloper(self, command: str) -> Reply:
        """A command awaiting its reply arrived inside an upload: the client reads this
        reply, so it is answered now; the upload is refused at commit all the same."""
        assert self.current is not None
        what = command or "an empty line"
        self.current.fail(UploadError.code, f"{what} arrived inside the upload")
        return Reply(
            UploadError.code,
            f"an upload is in progress: only put, commit and abort are allowed; {what} was "
            "not run, and the upload will be refused at commit",
        )

    def _stray(self, description: str) -> None:
        if self.stray is None:
            self.stray = StrayPuts(first=description)
        self.stray.count += 1

    async def _open(self, session: Any, request: rq.Upload) -> None:
        if self.current is not None:
            self.current.fail(
                UploadError.code,
                f"a second upload (of {request.directory}) arrived before commit or abort",
            )
            return
        began = not session.in_transaction
        self.current = upload = self._new_upload(request.directory, request.attributes, began)
        if began:
            await self._guard(upload, session.begin)

    def _new_upload(
        self, directory: str | None, attributes: tuple[str, ...], began: bool
    ) -> Upload:
        upload = Upload(directory, attributes, began)
        stray, self.stray = self.stray, None
        if stray is not None:  # the puts before it were lost: this upload carries that error
            upload.fail(UploadError.code, f"before this upload, {stray.describe()}")
        return upload

    async def _put(self, session: Any, request: rq.Put) -> None:
        upload = self.current
        if upload is None:
            self._stray(f"put {request.name}")
            return
        upload.puts += 1
        if upload.problem is not None:
            return  # refused already: keep nothing
        if len(request.values) != len(upload.attributes):
            upload.fail(
                UploadError.code,
                f"put #{upload.puts} ({request.name}): {len(request.values)} values for "
                f"{len(upload.attributes)} uploaded attributes",
            )
            return
        values: dict[str, object] = dict(zip(upload.attributes, request.values, strict=True))
        upload.rows.append((request.name, values))
        if len(upload.rows) >= self._batch:
            await self._flush(session, upload)

    async def _commit(self, session: Any) -> Reply:
        upload = self.current
        assert upload is not None
        await self._flush(session, upload)
        if upload.problem is not None:
            return await self._end_with(session, upload.refusal())
        self.current = None
        try:
            if session.in_transaction:
                await self._run(session.commit)
        except BookkeepingError as exc:
            return Reply(exc.code or _INTERNAL_ERROR, exc.message)
        return DONE

    async def _abort(self, session: Any) -> Reply:
        return await self._end_with(session, None)

    async def _end_with(self, session: Any, problem: Reply | None) -> Reply:
        """End the upload writing nothing; the error reply for ``problem``."""
        upload, self.current = self.current, None
        assert upload is not None
        # Rows already written sit in the transaction; a transaction the upload did not
        # open is left alone when the upload wrote nothing into it.
        if session.in_transaction and (upload.began or upload.written or problem is None):
            await self._run(session.abort)
        return DONE if problem is None else problem

    async def _flush(self, session: Any, upload: Upload) -> None:
        rows, upload.rows = upload.rows, []
        if rows and upload.problem is None:
            upload.written += len(rows)
            await self._guard(upload, session.addentries, upload.directory, rows)

    async def _guard(self, upload: Upload, function: Callable[..., object], *args: object) -> None:
        """Run engine work of an upload, keeping its first error for the commit reply: no
        error may be answered early (the client is not reading)."""
        try:
            await self._run(function, *args)
        except BookkeepingError as exc:
            upload.fail(exc.code, exc.message)
        except Exception as exc:  # a bug or an untranslated driver error: logged, reported
            logger.exception("internal error during an upload to %s", upload.directory)
            upload.fail(_INTERNAL_ERROR, f"internal server error ({type(exc).__name__})")
