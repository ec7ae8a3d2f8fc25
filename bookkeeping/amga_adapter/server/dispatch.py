"""Mapping typed requests onto CatalogueSession calls (runs in a worker thread).

Every handler returns an :class:`Outcome`: ``groups`` yields, per result item, the values that
go out one per line (``dir``: name, type; ``getattr``: name then one value per attribute).
Iterators come straight from the engine, so results stream and are never held whole.
"""

from __future__ import annotations

import inspect
import posixpath
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from bookkeeping.amga_adapter.protocol import requests as rq

Group = Sequence[object]


@dataclass
class Outcome:
    groups: Iterator[Group] = field(default_factory=lambda: iter(()))


def dispatch(session: Any, request: rq.Request) -> Outcome:
    """Run one request (not upload/put, which the connection handles) on a session."""
    handler = _HANDLERS.get(type(request))
    if handler is None:  # pragma: no cover - every parsed request type has a handler
        raise TypeError(f"no handler for {type(request).__name__}")
    result = handler(session, request)
    return Outcome(iter(result)) if result is not None else Outcome()


class _Batched(Iterator[Group]):
    """A result stream's items as protocol groups, reshaped a batch at a time when the
    stream offers ``take`` (``engine.streams.ResultStream``), one by one otherwise."""

    def __init__(self, items: Iterable[Any], reshape: Callable[[list[Any]], list[Group]]):
        self._items = iter(items)
        self._reshape = reshape

    def __next__(self) -> Group:
        return self._reshape([next(self._items)])[0]

    def take(self, size: int) -> list[Group]:
        take = getattr(self._items, "take", None)
        batch = take(size) if take is not None else list(islice(self._items, size))
        return self._reshape(batch)

    def close(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


def _entries(batch: list[tuple[str, Sequence[object]]]) -> list[Group]:
    return [(name, *values) for name, values in batch]


def _single_values(batch: list[object]) -> list[Group]:
    return [(value,) for value in batch]


def _discard(_count: object) -> None:
    """Commands such as setattr return a count the AMGA wire does not carry."""


def _one(value: object) -> Iterable[Group]:
    return [(value,)]


def _singles(values: Iterable[object]) -> Iterator[Group]:
    return _Batched(values, _single_values)


def _addentries(session: Any, request: rq.AddEntries) -> None:
    # Group consecutive paths by directory so each directory is one batched engine call.
    batch: list[tuple[str, dict[str, object]]] = []
    directory = None
    for path in request.paths:
        parent, name = posixpath.split(path)
        if batch and parent != directory:
            session.addentries(directory or ".", batch)
            batch = []
        directory = parent
        batch.append((name, {}))
    if batch:
        session.addentries(directory or ".", batch)


def _constraint_add(session: Any, request: rq.ConstraintAdd) -> str:
    adders: dict[str, Callable[..., str]] = {
        "not_null": lambda: session.constraint_add_not_null(request.directory, *request.arguments),
        "unique": lambda: session.constraint_add_unique(request.directory, request.arguments),
        "reference": lambda: session.constraint_add_reference(
            request.directory, *request.arguments
        ),
        "check": lambda: session.constraint_add_check(request.directory, *request.arguments),
    }
    method_name = f"constraint_add_{request.kind}"
    if request.name and "name" in inspect.signature(getattr(session, method_name)).parameters:
        arguments: tuple[object, ...] = (
            (request.arguments,) if request.kind == "unique" else request.arguments
        )
        return getattr(session, method_name)(request.directory, *arguments, name=request.name)
    return adders[request.kind]()


_Handler = Callable[[Any, Any], Iterable[Group] | None]

_HANDLERS: dict[type, _Handler] = {
    rq.CreateDir: lambda s, r: s.createdir(r.path, plain=r.plain),
    rq.RemoveDir: lambda s, r: s.rmdir(r.path),
    rq.ChangeDir: lambda s, r: s.cd(r.path),
    rq.PrintDir: lambda s, r: _one(s.pwd()),
    rq.ListEntries: lambda s, r: s.dir(r.pattern),
    rq.ListAttributes: lambda s, r: s.listattr(r.path),
    rq.AddAttribute: lambda s, r: s.addattr(r.directory, r.name, r.type),
    # AMGA's removeattr drops the column even while entries hold values; "only when no
    # entry uses it" is the bookkeeping writer's rule (seed 001), not the protocol's.
    rq.RemoveAttribute: lambda s, r: s.removeattr(r.directory, r.name, force=True),
    rq.ClearAttribute: lambda s, r: s.clearattr(r.directory, r.name),
    rq.AddEntry: lambda s, r: s.addentry(r.path, dict(r.values)),
    rq.AddEntries: _addentries,
    rq.SetAttributes: lambda s, r: _discard(s.setattr(r.pattern, dict(r.values))),
    rq.GetAttributes: lambda s, r: _Batched(s.getattr(r.pattern, list(r.attributes)), _entries),
    rq.Remove: lambda s, r: _discard(s.rm(r.pattern)),
    rq.Find: lambda s, r: _singles(s.find(r.pattern, r.condition)),
    rq.SelectAttributes: lambda s, r: s.selectattr(list(r.items), r.condition),
    rq.UpdateAttributes: lambda s, r: _discard(
        s.updateattr(r.pattern, list(r.assignments), r.condition)
    ),
    rq.Begin: lambda s, r: s.begin(),
    rq.Commit: lambda s, r: s.commit(),
    rq.Abort: lambda s, r: s.abort(),
    rq.SequenceCreate: lambda s, r: s.sequence_create(r.name, r.directory, r.increment, r.start),
    rq.SequenceNext: lambda s, r: _one(s.sequence_next(r.path)),
    rq.SequenceRemove: lambda s, r: s.sequence_remove(r.path),
    rq.ConstraintAdd: lambda s, r: _discard(_constraint_add(s, r)),
    rq.ConstraintDrop: lambda s, r: s.constraint_drop(r.directory, r.name),
    rq.ConstraintList: lambda s, r: _singles(s.constraint_list(r.directory)),
    rq.AclAdd: lambda s, r: s.acl_grant(r.path, r.principal, r.rights),
    rq.AclRemove: lambda s, r: s.acl_revoke(r.path, r.principal, r.rights),
    rq.AclShow: lambda s, r: s.acl_show(r.path),
    rq.ChangeOwner: lambda s, r: s.chown(r.path, r.owner),
    rq.WhoAmI: lambda s, r: _one(s.whoami()),
}
