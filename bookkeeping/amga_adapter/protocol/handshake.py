"""The connection prologue: the option block and the login context block.

Option block (one line, then an empty line): ``plain``, ``ssl``, ``resume<ID>`` or
``resumeSSL<ID>``. Context block: ``<key> <value>`` lines, then an empty line; key ``0`` is
the login and ``5`` the password. The server never replies to the context block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookkeeping.amga_adapter.protocol.errors import MalformedRequest

ANONYMOUS = "anonymous"
_RESUME = re.compile(r"resume(SSL)?(\d+)")


@dataclass(frozen=True, slots=True)
class Options:
    ssl: bool
    resume: int | None = None

    @property
    def expects_reply(self) -> bool:
        """A plain resume is answered with nothing: AMGA clients go straight on to their
        command; every other option line gets ``OK``."""
        return not (self.resume is not None and not self.ssl)

    @property
    def expects_context(self) -> bool:
        return self.resume is None


@dataclass(frozen=True, slots=True)
class Context:
    login: str = ANONYMOUS
    password: str | None = None


def parse_options(lines: list[str]) -> Options:
    """Parse the non-empty lines of the option block."""
    if not lines:
        return Options(ssl=False)
    word = lines[0].strip()
    if word == "plain":
        return Options(ssl=False)
    if word == "ssl":
        return Options(ssl=True)
    match = _RESUME.fullmatch(word)
    if match:
        return Options(ssl=bool(match.group(1)), resume=int(match.group(2)))
    raise MalformedRequest(f"unknown connection option {word!r} (plain, ssl, resume<ID>)")


def parse_context(lines: list[str]) -> Context:
    """Parse the non-empty lines of the context block; unknown keys are ignored."""
    login, password = ANONYMOUS, None
    for line in lines:
        key, _, value = line.partition(" ")
        if key == "0":
            login = value.strip() or ANONYMOUS
        elif key == "5":
            password = value
    return Context(login, password)
