"""The AMGA server on a live loopback socket, driven with generated command lines and raw
bytes: broken framing, over-long lines, non-UTF-8, CAN bytes, a broken prologue, connections
half-closed mid-line.

Every complete request line gets exactly one framed response whose code is one of our
documented errors (never the internal error, 6), no traceback or driver text reaches the
client, the data of another owner is unchanged, and after every batch the server still
serves a client that was connected all along and a newcomer (the health check).

The command-line fuzzer runs on every back-end (PostgreSQL and MariaDB answer differently
than SQLite); the byte-level one is about framing, which does not depend on the back-end,
and runs on SQLite with a small line limit so over-long lines are cheap to send.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.amga_adapter.protocol import COMMANDS, NO_REPLY_COMMANDS, command_word
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.errors import InternalFailure
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from tests.fuzzing import fuzz_settings
from tests.protocol.conftest import (  # noqa: F401  (module_catalogue is a fixture)
    ALICE_PASSWORD,
    ROOT_PASSWORD,
    _new_catalogue,
    module_catalogue,
)
from tests.protocol.rawwire import RawPeer
from tests.protocol.serving import RunningServer, running_server

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

MAX_LINE = 4096  # the byte fuzzer's server: over-long lines cost a few kilobytes
READ_SECONDS = 20.0  # a response or the server's close, at the latest
_RESPONSE = re.compile(rb"(-?\d+)(?: ([^\n]*))?\n(?:[^\x04]*\n)?\x04(?:session\d+)?\x04")
# What must never reach a client: a Python traceback, a driver's or SQLAlchemy's text.
_LEAKS = re.compile(
    rb"Traceback|File \"|sqlalchemy|psycopg|pymysql|MySQLdb|sqlite3\.|\[SQL:|\(Background on"
    rb"|internal server error",
    re.I,
)

# The guarded tree belongs to root; "fuzzer" may only read it, and owns /fuzz, where it may
# do anything. Their stored hashes are scrypt with a tiny cost (the hash says its own cost):
# the production cost, ~0.1 s a login, would be most of each example's time.
FAST_PASSWORD = "fuzz"
GUARDED = [("/guarded/g1", {"n": 1, "s": "one"}), ("/guarded/g2", {"n": 2, "s": "two"})]
TYPES = ["int", "float", "varchar(20)", "text", "timestamp", "date", "time", "numeric(10,2)"]


def _setup(catalogue: Any) -> None:
    for user in ("fuzzer", "reader"):
        catalogue.add_user("root", user)
    with write_transaction(catalogue.engine) as connection:
        connection.execute(
            users.update()
            .where(users.c.name.in_(["fuzzer", "reader"]))
            .values(password_hash=_cheap_hash(FAST_PASSWORD))
        )
    session = catalogue.session("root")
    try:
        session.createdir("/guarded")
        session.addattr("/guarded", "n", "int")
        session.addattr("/guarded", "s", "varchar(20)")
        for path, values in GUARDED:
            session.addentry(path, values)
        session.acl_grant("/guarded", "fuzzer", "r")
        session.acl_grant("/guarded", "reader", "r")
        session.createdir("/fuzz")
        session.chown("/fuzz", "fuzzer")
        session.acl_grant("/fuzz", "fuzzer", "rwx")
    finally:
        session.close()


def _peer(port: int) -> RawPeer:
    peer = RawPeer(port)
    # Without it the login context and the first command wait on a delayed ACK (40 ms).
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return peer


def _cheap_hash(password: str) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    return "$".join(
        ["scrypt", "2", "1", "1", *(base64.b64encode(v).decode() for v in (salt, digest))]
    )


def _guarded_values(peer: RawPeer) -> bytes:
    return peer.command("getattr /guarded/* n s")


def _guarded_state(peer: RawPeer) -> bytes:
    return _guarded_values(peer) + peer.command("acl_show /guarded")


def _responses(data: bytes) -> list[tuple[int, bytes]]:
    """The responses in ``data`` (codes and messages); fails on anything else."""
    found, position = [], 0
    while position < len(data):
        match = _RESPONSE.match(data, position)
        assert match, f"not a framed response at byte {position}: {data[position:][:300]!r}"
        found.append((int(match[1]), match[2] or b""))
        position = match.end()
    return found


def _check_answer(response: bytes, sent: bytes) -> None:
    [(code, message)] = _responses(response)
    assert code != InternalFailure.code, (sent, response[:500])
    assert not _LEAKS.search(response), (sent, response[:500])
    if code:
        assert message.strip(), (sent, response[:500])  # an error says what is wrong


class Health:
    """A client connected all along and the guarded data as it was: checked after a batch."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.watcher = _peer(port)
        self.watcher.login("root", ROOT_PASSWORD)
        self.guarded = _guarded_state(self.watcher)

    def check(self) -> None:
        assert self.watcher.command("pwd").startswith(b"0\n"), "the long-lived client lost"
        assert _guarded_state(self.watcher) == self.guarded, "root's data changed"
        with _peer(self.port) as newcomer:
            newcomer.login("reader", FAST_PASSWORD)
            assert self.guarded.startswith(_guarded_values(newcomer)), "a newcomer is refused"

    def close(self) -> None:
        self.watcher.close()


@pytest.fixture(scope="module")
def live(module_catalogue: Any) -> Iterator[tuple[RunningServer, Health]]:  # noqa: F811
    _setup(module_catalogue)
    with running_server(module_catalogue) as running:
        health = Health(running.port)
        try:
            yield running, health
        finally:
            health.close()


# -- command lines, on every back-end ----------------------------------------------------------

ARGUMENTS = st.sampled_from(
    [
        "/fuzz", "/fuzz/e1", "/fuzz/*", "/guarded", "/guarded/g1", "/guarded/*", "/", "..",
        "/nowhere/x", "a", "n", "s", "x", "int", "float", "varchar(3)", "text", "timestamp",
        "numeric(40,2)", "date", "'", '"', "\\", "'it''s'", "'2024-02-30'", "'25:61:00'",
        "9" * 30, "-9223372036854775809", "1e309", "NaN", "-0", "0.1", "3.4028236e38",
        "alice", "root", "nobody", "rwx", "r", "''", "(", ")", "/fuzz:a = 1", "/fuzz:a+1",
        "/fuzz:a > '2024-01-01'", "sum(/fuzz:a)", "count(/fuzz:a)", "or", "and", "not",
        "in (1,2)", "like '%'", "is null", "order", "by", "limit", "5", "-1", "\x00", "é",
        "\u202e", "\udcff", "\t", "*", "--", ";", "select", "drop table users",
    ]
)  # fmt: skip
COMMAND_WORDS = st.sampled_from(sorted(COMMANDS - NO_REPLY_COMMANDS) + ["help", "PWD", "x"])
LINES = st.tuples(COMMAND_WORDS, st.lists(ARGUMENTS | st.text(max_size=8), max_size=7)).map(
    lambda parts: " ".join([parts[0], *parts[1]])
)


def _wire(line: str) -> bytes:
    # One request line: a newline would make two, CAN cancels, and a lone surrogate is
    # bytes no client could encode (the raw-byte fuzzer sends invalid UTF-8 itself).
    clean = line.replace("\n", " ").replace("\r", " ").replace("\x18", "")
    return clean.encode("utf-8", "surrogateescape" if "\udcff" in clean else "strict")


@fuzz_settings(ci=20, slow=1500)
@given(lines=st.lists(LINES, min_size=1, max_size=8))
def test_command_lines_get_one_documented_answer_each(
    live: tuple[RunningServer, Health], lines: list[str]
) -> None:
    running, health = live
    with _peer(running.port) as peer:
        peer.login("fuzzer", FAST_PASSWORD)
        peer.command("cd /fuzz")
        for line in lines:
            sent = _wire(line)
            peer.send(sent + b"\n")
            _check_answer(peer.response(), sent)
        peer.command("abort")  # ends a transaction left open (or is refused: none open)
        assert peer.silent(0.02)  # not one reply more than the lines sent
    health.check()


@fuzz_settings(ci=6, slow=100)
@given(
    types=st.lists(st.sampled_from(TYPES), min_size=1, max_size=4),
    values=st.lists(ARGUMENTS | st.text(max_size=6), min_size=1, max_size=6),
)
# Found by --slow: a quoted integer beyond 64 bits met a number column as an OverflowError.
@example(types=["int", "float"], values=["9" * 30, "-9223372036854775809"])
def test_typed_writes_and_queries_on_every_back_end(
    live: tuple[RunningServer, Health], types: list[str], values: list[str]
) -> None:
    """Attributes of real types with hostile values written and then queried: the paths
    where back-ends differ most (conversion, overflow, comparison of types)."""
    running, health = live
    with _peer(running.port) as peer:
        peer.login("fuzzer", FAST_PASSWORD)
        names = [f"t{index}" for index in range(len(types))]
        folder = f"/fuzz/typed{next(_FOLDERS)}"  # one per example: no state carried over
        answers = [peer.command(f"createdir {folder}")]
        answers += [
            peer.command(f"addattr {folder} {n} {t}") for n, t in zip(names, types, strict=True)
        ]
        for index, value in enumerate(values):
            pairs = " ".join(f"{name} {_quoted(value)}" for name in names)
            answers.append(peer.command(f"addentry {folder}/e{index} {pairs}"))
        for name in names:
            for value in values[:2]:
                condition = f"{folder}:{name} < {_quoted(value)} or {folder}:{name} = 1"
                answers.append(peer.command(f"selectattr {folder}:{name} {_quoted(condition)}"))
            answers.append(peer.command(f"selectattr 'sum({folder}:{name})' ''"))
        for response in answers:
            _check_answer(response, b"typed")
    health.check()


_FOLDERS = itertools.count()


def _quoted(value: str) -> str:
    clean = value.replace("\n", " ").replace("\r", " ").replace("\x18", "").replace("\udcff", "")
    return "'" + clean.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- raw bytes, on SQLite ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bytes_server() -> Iterator[tuple[RunningServer, Health]]:
    with scratch_database("sqlite") as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        catalogue = _new_catalogue(engine)
        _setup(catalogue)
        try:
            with running_server(catalogue, max_line=MAX_LINE) as running:
                health = Health(running.port)
                try:
                    yield running, health
                finally:
                    health.close()
        finally:
            engine.dispose()


CHUNKS = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"pwd", b"whoami", b"dir /fuzz", b"cd /guarded", b"getattr /guarded/* n",
            b"\xff\xfe\xfd", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\r", b"\r\n", b"\n\n",
            b"\x04", b"\x04\x04", b"\x18", b"session1", b"'", b"\\", b" " * 50,
            b"x" * (MAX_LINE - 1), b"y" * MAX_LINE, b"z" * (MAX_LINE + 1), b"w" * (3 * MAX_LINE),
            b"selectattr /fuzz:a '", "é\u202e".encode(),
        ]
    ),
)  # fmt: skip
STREAMS = st.lists(CHUNKS, max_size=16).map(b"".join)


def _expected_replies(stream: bytes) -> int:
    """Complete lines the server answers: every one but ``upload``/``put`` (CAN bytes are
    not part of lines; an unfinished last line is dropped when the peer closes)."""
    lines = stream.replace(b"\x18", b"").split(b"\n")[:-1]
    return sum(
        command_word(line[:64].decode("utf-8", "replace")) not in NO_REPLY_COMMANDS
        for line in lines
    )


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(READ_SECONDS)
    received = bytearray()
    while chunk := sock.recv(1 << 16):
        received += chunk
    return bytes(received)


@fuzz_settings(ci=80, slow=3000)
@given(stream=STREAMS, login=st.sampled_from(["fuzzer", "anonymous", "nobody"]))
def test_raw_bytes_after_login_are_answered_line_by_line(
    bytes_server: tuple[RunningServer, Health], stream: bytes, login: str
) -> None:
    running, health = bytes_server
    with _peer(running.port) as peer:
        peer.login(login, FAST_PASSWORD if login == "fuzzer" else None)
        peer.send(stream)
        peer.sock.shutdown(socket.SHUT_WR)  # half-closed: the server answers, then closes
        received = peer.buffer + _until_closed(peer.sock)
    responses = _responses(received)
    assert not _LEAKS.search(received), (stream, received[:500])
    assert all(code != InternalFailure.code for code, _ in responses), (stream, received[:500])
    expected = _expected_replies(stream)
    if login == "nobody" and expected:  # a failed login: its error, then the server hangs up
        assert len(responses) == 1 and responses[0][0] != 0, received[:500]
    else:
        assert len(responses) == expected, (stream, received[:500])
    health.check()


PROLOGUE_LINES = st.one_of(
    st.binary(max_size=30).map(lambda data: data.replace(b"\n", b"")),
    st.sampled_from(
        [b"plain", b"ssl", b"session", b"session12", b"sessionx", b"noreply", b"\xff",
         b"0 alice", b"5 " + ALICE_PASSWORD.encode(), b"0 root", b"5 wrong", b"9 x",
         b"p" * 5000, b""]
    ),
)  # fmt: skip


@fuzz_settings(ci=50, slow=3000)
@given(
    prologue=st.lists(PROLOGUE_LINES, max_size=24),
    rest=st.lists(CHUNKS, max_size=4).map(b"".join),
)
def test_a_broken_prologue_or_login_is_refused_without_harm(
    bytes_server: tuple[RunningServer, Health], prologue: list[bytes], rest: bytes
) -> None:
    running, health = bytes_server
    with socket.create_connection(("127.0.0.1", running.port), timeout=READ_SECONDS) as sock:
        sock.sendall(b"\n".join(prologue) + b"\n" + rest)
        sock.shutdown(socket.SHUT_WR)
        try:
            received = _until_closed(sock)
        except ConnectionResetError:  # refused before reading all we sent: the kernel says so
            received = b""
    assert received.count(b"\n") >= 3 or not received, received[:300]
    assert not _LEAKS.search(received), (prologue, received[:500])
    assert f" {InternalFailure.code} ".encode() not in received.replace(b"\n", b" "), received
    health.check()


def test_a_connection_dropped_mid_response_does_not_harm_the_server(
    bytes_server: tuple[RunningServer, Health],
) -> None:
    """A client that asks for a long answer and goes away without reading it."""
    running, health = bytes_server
    for _ in range(5):
        peer = RawPeer(running.port, receive_buffer=4096)
        peer.login("fuzzer", FAST_PASSWORD)
        peer.send(b"dir /\n" * 2000 + b"pwd")  # the last line never ends
        peer.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        peer.close()  # with SO_LINGER 0: a reset, not an orderly close
    health.check()
