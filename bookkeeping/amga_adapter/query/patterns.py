"""Entry-name globs and LIKE patterns.

A LIKE pattern here always uses backslash as its escape character: ``\\%``, ``\\_`` and
``\\\\`` stand for themselves; a backslash before any other character (or at the end) is a
literal backslash. ``like_parts`` reads a pattern into literal text and wildcards once, and
every rendering (canonical LIKE, SQLite GLOB, Python regex) is produced from those parts, so
they all agree.
"""

from __future__ import annotations

import re

LIKE_ESCAPE = "\\"
ANY_RUN = object()  # % : any run of characters, maybe empty
ANY_ONE = object()  # _ : exactly one character

Part = str | object


def like_parts(pattern: str) -> list[Part]:
    parts: list[Part] = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if character == LIKE_ESCAPE:
            following = pattern[index + 1 : index + 2]
            if following in {"%", "_", LIKE_ESCAPE}:
                parts.append(following)
                index += 2
                continue
            parts.append(LIKE_ESCAPE)
        elif character == "%":
            parts.append(ANY_RUN)
        elif character == "_":
            parts.append(ANY_ONE)
        else:
            parts.append(character)
        index += 1
    return parts


def canonical_like(pattern: str) -> str:
    """The same pattern with every literal %, _ and backslash escaped, which each back-end
    reads identically with ``ESCAPE '\\'`` (PostgreSQL rejects a pattern ending in the escape
    character; this form never does)."""
    return _render(like_parts(pattern), {"%": "\\%", "_": "\\_", "\\": "\\\\"}, "%", "_")


def like_to_glob(pattern: str) -> str:
    """SQLite GLOB (case-sensitive) equivalent of a LIKE pattern."""
    return _render(like_parts(pattern), {"*": "[*]", "?": "[?]", "[": "[[]"}, "*", "?")


def like_to_regex(pattern: str) -> re.Pattern[str]:
    """The Python regular expression matching exactly what the LIKE pattern matches."""
    regex = "".join(
        ".*" if part is ANY_RUN else "." if part is ANY_ONE else re.escape(str(part))
        for part in like_parts(pattern)
    )
    return re.compile(regex, re.DOTALL)


def glob_to_like(glob: str) -> tuple[str, str]:
    """An entry-name pattern (``*`` any run, ``?`` one character) as a LIKE pattern and its
    escape character; %, _ and the escape character in the name are matched literally."""
    out = []
    for character in glob:
        if character == "*":
            out.append("%")
        elif character == "?":
            out.append("_")
        elif character in {"%", "_", LIKE_ESCAPE}:
            out.append(LIKE_ESCAPE + character)
        else:
            out.append(character)
    return "".join(out), LIKE_ESCAPE


def _render(parts: list[Part], escapes: dict[str, str], any_run: str, any_one: str) -> str:
    out = []
    for part in parts:
        if part is ANY_RUN:
            out.append(any_run)
        elif part is ANY_ONE:
            out.append(any_one)
        else:
            text = str(part)
            out.append(escapes.get(text, text))
    return "".join(out)
