"""The search pipeline (seed 003, section 3.2): register, look up the cache, else query the
metadata, checksum and cache the response, and answer quickly with the totals and one page.

Cursors are opaque (base64 of the query id and an offset): one query's cursor is refused on
another query, so a page never comes from a different response.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Literal

from bookkeeping.aggregation.cache import ResponseCache
from bookkeeping.aggregation.errors import CacheUnavailable, InvalidFilter
from bookkeeping.aggregation.filters import SearchFilter, query_id
from bookkeeping.aggregation.search import MatchedFile, run_search
from bookkeeping.interface import Bookkeeping

log = logging.getLogger(__name__)

CacheStatus = Literal["hit", "miss", "unavailable"]
DEFAULT_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True)
class SearchAnswer:
    query_id: str
    total: int
    total_bytes: int
    total_events: int
    checksum: str
    cache_status: CacheStatus
    files: tuple[MatchedFile, ...]
    offset: int

    @property
    def cached(self) -> bool:
        return self.cache_status == "hit"

    @property
    def end_cursor(self) -> str | None:
        end = self.offset + len(self.files)
        return encode_cursor(self.query_id, end) if end < self.total else None


def encode_cursor(query: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{query}:{offset}".encode()).decode()


def decode_cursor(query: str, cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        owner, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidFilter(f"cursor {cursor!r} is malformed") from None
    if owner != query or value < 0:
        raise InvalidFilter(f"cursor {cursor!r} belongs to another search")
    return value


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise InvalidFilter(f"first must be between 0 and {MAX_PAGE}, not {first}")
    return first


class SearchService:
    """Answers searches for the web app and the CLI; the cache is any ``ResponseCache``."""

    def __init__(self, reader: Bookkeeping, cache: ResponseCache) -> None:
        self.reader = reader
        self.cache = cache

    def search(
        self, search: SearchFilter, first: int | None = None, after: str | None = None
    ) -> SearchAnswer:
        identifier = query_id(search)
        limit = page_size(first)
        offset = decode_cursor(identifier, after)
        status: CacheStatus = "miss"
        try:
            hit = self.cache.answer(identifier, offset, limit)
        except CacheUnavailable as exc:
            log.warning("%s; answering uncached", exc)
            hit, status = None, "unavailable"
        if hit is not None:
            return SearchAnswer(
                identifier,
                hit.total,
                hit.total_bytes,
                hit.total_events,
                hit.checksum,
                "hit",
                hit.page,
                offset,
            )
        response = run_search(self.reader, search)
        if status == "miss":
            try:
                self.cache.store(identifier, search, response)
            except CacheUnavailable as exc:
                log.warning("%s; the response is not cached", exc)
                status = "unavailable"
        return SearchAnswer(
            identifier,
            response.total,
            response.total_bytes,
            response.total_events,
            response.checksum,
            status,
            response.files[offset : offset + limit],
            offset,
        )
