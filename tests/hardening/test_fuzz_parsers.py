"""The pure entry points — the AMGA request parser and the query language parser — on
generated hostile text: a parsed request or one of our errors, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeping.amga_adapter.protocol import COMMANDS, parse_request
from bookkeeping.amga_adapter.query.parser import (
    parse_condition,
    parse_expression,
    parse_select_items,
)
from bookkeeping.errors import BookkeepingError
from tests.fuzzing import fuzz_settings

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

PIECES = st.sampled_from(
    [
        "'", '"', "\\", "(", ")", " or ", " and ", " not ", "=", "<", "*", "+", "-", ",",
        "9" * 30, "9" * 5000, "1e309", "-0", "NaN", "/a:x", "x", "'2024-01-02'", "\x00",
        "\x04", "\x18", "é", "\u202e", " ", "\t", "in (1,2)", "like '%'", "is null",
        "order by x", "limit 5", "count(x)", "sum(x)", "lower(", "((((((((((", "))))",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES | st.text(max_size=5), max_size=40).map("".join)


def _ours(call: object, *args: object) -> None:
    try:
        call(*args)  # type: ignore[operator]
    except BookkeepingError:
        pass


@fuzz_settings(ci=2000)
@given(command=st.sampled_from(sorted(COMMANDS)), rest=TEXT)
def test_request_lines_parse_or_fail_with_our_error(command: str, rest: str) -> None:
    _ours(parse_request, f"{command} {rest}")


@fuzz_settings(ci=2000)
@given(TEXT)
def test_conditions_parse_or_fail_with_our_error(text: str) -> None:
    _ours(parse_condition, text)
    _ours(parse_expression, text)
    _ours(parse_select_items, [text])
