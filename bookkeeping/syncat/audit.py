"""The consistency audit: an SE's listing against the catalogue's copies on it.

The listing is taken between two snapshots of the catalogue's copies on the SE, so files in
flight are not misreported (Rucio's auditor): **dark** = on the SE, in neither snapshot;
**lost** = an available copy in both snapshots, not on the SE. When more than
``max_lost_fraction`` of the copies look lost the audit still reports but refuses to act:
that is likelier an unmounted disk or a wrong root than real loss.

The snapshots read the bookkeeping through its interface (``iter_files`` then
``replicas_of`` a page at a time): the expensive part, and why the messages exist.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from bookkeeping.chunking import chunked
from bookkeeping.interface import Bookkeeping, DatasetPath
from bookkeeping.storage.element import StorageElement
from bookkeeping.syncat.errors import AuditRefused
from bookkeeping.syncat.messages import MAX_FILES, Envelope, MessageType
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.transport.base import Transport

PAGE = 500
DEFAULT_MAX_LOST_FRACTION = 0.2


@dataclass(frozen=True)
class Snapshot:
    paths: dict[str, str]  # path on the SE -> LFN, every copy on the SE
    available: frozenset[str]  # paths of the copies marked available


@dataclass
class AuditReport:
    se: str
    dark: list[str]  # paths on the SE
    lost: list[str]  # LFNs
    lost_paths: list[str]
    catalogue: int  # copies on the SE in both snapshots
    listed: int  # files the SE listed
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def lost_fraction(self) -> float:
        return len(self.lost) / self.catalogue if self.catalogue else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "se": self.se,
            "dark": self.dark,
            "lost": self.lost,
            "catalogue": self.catalogue,
            "listed": self.listed,
            "lost_fraction": round(self.lost_fraction, 6),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _pages(reader: Bookkeeping) -> Iterator[list[tuple[int, str]]]:
    page: list[tuple[int, str]] = []
    for record in reader.iter_files(DatasetPath(), order_by="file_id"):
        page.append((record.file_id, record.lfn))
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def snapshot(reader: Bookkeeping, se: str) -> Snapshot:
    paths: dict[str, str] = {}
    available: set[str] = set()
    for page in _pages(reader):
        copies = reader.replicas_of([file_id for file_id, _ in page])
        for file_id, lfn in page:
            for replica in copies.get(file_id, ()):
                if replica.se == se and replica.path:
                    paths[replica.path] = lfn
                    if replica.status == "available":
                        available.add(replica.path)
    return Snapshot(paths, frozenset(available))


def audit(reader: Bookkeeping, element: StorageElement) -> AuditReport:
    clock = time.perf_counter
    started = clock()
    first = snapshot(reader, element.name)
    listed_at = clock()
    listing = {stat.path for stat in element.list("/")}
    second_at = clock()
    second = snapshot(reader, element.name)
    done = clock()
    known = first.paths.keys() | second.paths.keys()
    steady = first.available & second.available
    lost_paths = sorted(steady - listing)
    return AuditReport(
        se=element.name,
        dark=sorted(listing - known),
        lost=sorted(second.paths[path] for path in lost_paths),
        lost_paths=lost_paths,
        catalogue=len(first.paths.keys() & second.paths.keys()),
        listed=len(listing),
        seconds={
            "snapshot_1": listed_at - started,
            "listing": second_at - listed_at,
            "snapshot_2": done - second_at,
            "total": done - started,
        },
    )


def send_findings(
    report: AuditReport,
    transport: Transport,
    routing: Routing,
    signer: Signer,
    *,
    requester: str = "root",
    max_lost_fraction: float = DEFAULT_MAX_LOST_FRACTION,
) -> int:
    """Send the findings to the catalogue (``file_lost``, ``file_appeared``); how many
    messages. ``AuditRefused`` (nothing sent) when too much looks lost."""
    if report.lost_fraction > max_lost_fraction:
        raise AuditRefused(
            f"{len(report.lost)} of {report.catalogue} copies on {report.se} look lost "
            f"({report.lost_fraction:.1%} > {max_lost_fraction:.1%}): refusing to act; check "
            "the SE (mounted? right root?) or raise --max-lost-fraction"
        )
    findings = [
        (
            MessageType.FILE_LOST,
            [
                {"path": path, "lfn": lfn}
                for path, lfn in zip(report.lost_paths, report.lost, strict=True)
            ],
        ),
        (MessageType.FILE_APPEARED, [{"path": path} for path in report.dark]),
    ]
    messages = 0
    for kind, items in findings:
        for chunk in chunked(items, MAX_FILES):
            envelope = Envelope(
                type=kind,
                sender=signer.endpoint,
                requester=requester,
                se=report.se,
                files=tuple(chunk),
            )
            transport.publish(routing.catalogue, [signer.sign(envelope).to_bytes()])
            messages += 1
    return messages
