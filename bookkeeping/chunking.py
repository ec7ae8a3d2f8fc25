"""Bounded pieces of a long sequence or stream: the one helper behind every batch of ids in
an ``IN (...)`` list, every insert batch and every page of streamed records."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["chunked"]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items, in order, none empty. An iterator is
    consumed lazily, one chunk at a time, so a stream is never held whole."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
