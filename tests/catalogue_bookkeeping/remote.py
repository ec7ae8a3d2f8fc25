"""A live AMGA server over a pair's database, and the calls that compare two bookkeepings.

Shared by the tests of ``RemoteCatalogueBookkeeping``: the in-process catalogue
bookkeeping is the reference, the remote one must answer every call identically (``==``),
or fail with the same kind of error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bookkeeping.amga_adapter.bookkeeping import RemoteCatalogueBookkeeping
from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.interface import Bookkeeping, DatasetPath, Level, ListingQuery
from tests.protocol.serving import RunningServer, running_server

ROOT_PASSWORD = "root-secret"

Call = tuple[str, tuple[Any, ...], dict[str, Any]]


@contextmanager
def served(engine: Any) -> Iterator[RunningServer]:
    """``bk amga serve`` for the database of ``engine`` on a free loopback port, with a
    password for root (``add_root`` made it without one)."""
    catalogue = Catalogue(engine)
    catalogue.set_password("root", "root", ROOT_PASSWORD)
    with running_server(catalogue) as running:
        yield running


@contextmanager
def remote_bookkeeping(
    server: RunningServer, user: str = "root", password: str = ROOT_PASSWORD, **options: Any
) -> Iterator[RemoteCatalogueBookkeeping]:
    client = MDClient("127.0.0.1", server.port, user, password)
    try:
        yield RemoteCatalogueBookkeeping(client, **options)
    finally:
        client.close()


def outcome(bookkeeping: Bookkeeping, call: Call) -> tuple[str, Any]:
    """("ok", answer) or ("error", the exception's class); streams are read to the end."""
    method, args, kwargs = call
    try:
        answer = getattr(bookkeeping, method)(*args, **kwargs)
        if method.startswith("iter_"):
            answer = list(answer)
    except Exception as exc:  # the comparison is the point: any error is compared
        return "error", type(exc)
    return "ok", answer


def every_call(reference: Bookkeeping, sample: int = 4) -> list[Call]:
    """Every method of the interface with arguments taken from ``reference``'s data (ids
    that exist and some that do not)."""
    records = list(reference.files(DatasetPath()).files)
    ids = [r.file_id for r in records[:sample]] + [0, 10**6]
    calls: list[Call] = [("files", (DatasetPath(),), {})]
    for file_id in ids:
        for method in ("file_by_id", "file_parameters", "replicas", "quality_flags"):
            calls.append((method, (file_id,), {}))
        calls += [
            ("ancestors", (file_id, 3), {}),
            ("descendants", (file_id, 3), {}),
            ("job", (file_id,), {}),
            ("job_parameters", (file_id,), {}),
        ]
        for name in ("GUID", "Size", "Unknown"):
            calls.append(("file_parameter", (file_id, name), {}))
    for record in records[:sample]:
        calls += [
            ("file_by_lfn", (record.lfn,), {}),
            ("parameter_where", ("Size", "GUID", record.guid), {}),
            ("parameter_where", ("GUID", "Size", str(record.size)), {}),
            ("search", (), {"lfn": record.lfn[5:20], "limit": 3}),
            ("search", (), {"production": record.production, "run": record.run}),
            ("count_listing", (ListingQuery(record.file_type),), {}),
            ("iter_listing", (ListingQuery(record.file_type, disk_only=True),), {}),
        ]
    calls.append(("files_metadata", ([r.lfn for r in records[:sample]] + ["/lhcb/none"],), {}))
    calls.append(("replicas_of", (ids,), {}))
    paths = [DatasetPath()]
    if records:
        first = records[0]
        paths.append(DatasetPath(config_name=first.lfn.split("/")[2], file_type=first.file_type))
        paths.append(DatasetPath(production_range=(first.production - 5, first.production + 5)))
    for path in paths:
        for level in Level:
            calls.append(("level_values", (level, path), {}))
        for order in ("lfn", "run", "size"):
            calls.append(("files", (path,), {"offset": 1, "limit": 4, "order_by": order}))
            calls.append(("iter_files", (path,), {"order_by": order, "descending": True}))
    return calls


def compare(
    expected: Bookkeeping, got: Bookkeeping, calls: list[Call]
) -> list[tuple[Call, Any, Any]]:
    """The calls whose outcomes differ (empty when the two agree on all of them)."""
    differences = []
    for call in calls:
        want, have = outcome(expected, call), outcome(got, call)
        if want != have:
            differences.append((call, want, have))
    return differences


def describe(differences: list[tuple[Call, Any, Any]]) -> str:
    lines = [f"{len(differences)} calls differ; the first:"]
    for call, want, have in differences[:3]:
        lines += [f"  {call}", f"    in-process: {want}", f"    remote:     {have}"]
    return "\n".join(lines)
