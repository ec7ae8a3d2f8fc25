"""Entry-name globs and LIKE patterns: one reading, several renderings that agree."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.query import glob_to_like
from bookkeeping.amga_adapter.query.patterns import canonical_like, like_to_glob, like_to_regex


@pytest.mark.parametrize(
    ("glob", "like"),
    [
        ("*", "%"),
        ("f?.dst", "f_.dst"),
        ("run_1*", "run\\_1%"),
        ("100%", "100\\%"),
        ("a\\b", "a\\\\b"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_glob_to_like_escapes_like_wildcards(glob: str, like: str) -> None:
    assert glob_to_like(glob) == (like, "\\")


@pytest.mark.parametrize(
    ("pattern", "canonical", "glob"),
    [
        ("a%b_c", "a%b_c", "a*b?c"),
        ("100\\%", "100\\%", "100%"),
        ("a\\_b", "a\\_b", "a_b"),
        ("back\\\\slash", "back\\\\slash", "back\\slash"),
        ("trailing\\", "trailing\\\\", "trailing\\"),  # a lone escape at the end is literal
        ("other\\x", "other\\\\x", "other\\x"),
        ("glob*?[chars", "glob*?[chars", "glob[*][?][[]chars"),
    ],
)
def test_like_renderings(pattern: str, canonical: str, glob: str) -> None:
    assert canonical_like(pattern) == canonical
    assert like_to_glob(pattern) == glob


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("a%", ["a", "abc", "a\nb"], ["ba", "A"]),
        ("_b", ["ab", "bb"], ["b", "abb"]),
        ("%\\%", ["100%"], ["100"]),
        ("a.c", ["a.c"], ["abc"]),
        ("", [""], ["x"]),
    ],
)
def test_like_regex(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = like_to_regex(pattern)
    assert all(regex.fullmatch(text) for text in matches)
    assert not any(regex.fullmatch(text) for text in misses)
