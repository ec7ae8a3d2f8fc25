"""A minimal raw-socket AMGA peer for checking bytes on the wire."""

from __future__ import annotations

import select
import socket


class RawPeer:
    def __init__(self, port: int, *, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        if receive_buffer is not None:  # a fixed, small window: the server must wait for us
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 20)
        self.buffer += data
        return bool(data)

    def read_lines(self, count: int) -> bytes:
        while self.buffer.count(b"\n") < count:
            if not self._fill():
                raise ConnectionError("closed early")
        end = 0
        for _ in range(count):
            end = self.buffer.index(b"\n", end) + 1
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def login(self, login: str, password: str | None = None) -> bytes:
        greeting = self.read_lines(3)
        self.send(b"plain\n\n")
        assert self.read_lines(1) == b"OK\n"
        context = f"0 {login}\n" + (f"5 {password}\n" if password is not None else "") + "\n"
        self.send(context.encode())
        return greeting

    def response(self) -> bytes:
        """Everything up to and including the second end-of-transmission byte."""
        scanned = 0  # search only new bytes: responses may be megabytes long
        while True:
            first = self.buffer.find(b"\x04", scanned)
            if first > -1:
                second = self.buffer.find(b"\x04", first + 1)
                if second > -1:
                    data, self.buffer = self.buffer[: second + 1], self.buffer[second + 1 :]
                    return data
            else:
                scanned = len(self.buffer)
            if not self._fill():
                raise ConnectionError(f"closed inside a response: {self.buffer[-200:]!r}")

    def command(self, line: str) -> bytes:
        self.send(line.encode() + b"\n")
        return self.response()

    def silent(self, seconds: float = 0.3) -> bool:
        """True when the server sends nothing within ``seconds``."""
        if self.buffer:
            return False
        readable, _, _ = select.select([self.sock], [], [], seconds)
        return not readable

    def closed_by_server(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 5)
        return bool(readable) and self.sock.recv(1) == b""


def root_peer(port: int, password: str) -> RawPeer:
    peer = RawPeer(port)
    peer.login("root", password)
    return peer
