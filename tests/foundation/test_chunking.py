"""``bookkeeping.chunking.chunked``: the one helper behind every batch of ids, rows or records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeping.chunking import chunked


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=20))
def test_chunks_are_bounded_in_order_and_complete(items: list[int], size: int) -> None:
    chunks = list(chunked(items, size))
    assert [item for chunk in chunks for item in chunk] == items
    assert all(1 <= len(chunk) <= size for chunk in chunks)
    assert all(len(chunk) == size for chunk in chunks[:-1])


def test_a_stream_is_read_one_chunk_at_a_time() -> None:
    pulled: list[int] = []

    def stream() -> Iterator[int]:
        for number in range(10):
            pulled.append(number)
            yield number

    chunks = chunked(stream(), 3)
    assert next(chunks) == [0, 1, 2]
    assert pulled == [0, 1, 2]


@pytest.mark.parametrize("size", [0, -1])
def test_a_size_below_one_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([1, 2], size))
