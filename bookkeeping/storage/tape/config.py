"""The emulated tape library's settings, read from its URL (``tape:///path?drives=2&...``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from bookkeeping.storage.errors import InvalidStorageElement

_POOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
GB = 1_000_000_000


@dataclass(frozen=True)
class TapeConfig:
    """Times in seconds, sizes in bytes; the defaults make a fast, roomy library."""

    root: Path
    drives: int = 2
    cartridges: int = 8  # per pool
    capacity: int = 10 * GB  # per cartridge
    pools: tuple[str, ...] = ("default",)
    mount: float = 0.0  # seconds to mount a cartridge in a drive
    unmount: float = 0.0  # seconds to unmount one
    seek: float = 0.0  # seconds per GB of distance the head travels
    throughput: float = 0.0  # bytes per second a drive reads or writes; 0: unlimited
    wait: float = 600.0  # seconds a request waits for a drive before giving up

    def seek_time(self, distance: int) -> float:
        return self.seek * abs(distance) / GB

    def transfer_time(self, size: int) -> float:
        return size / self.throughput if self.throughput > 0 else 0.0


_INTEGERS = {"drives": 1, "cartridges": 1, "capacity": 1}
_FLOATS = {"mount", "unmount", "seek", "throughput", "wait"}


def parse_tape_url(name: str, url: str) -> TapeConfig:
    """``InvalidStorageElement`` naming the element and the bad parameter."""
    parts = urlsplit(url)
    if parts.scheme != "tape" or parts.netloc or not parts.path.startswith("/"):
        raise InvalidStorageElement(f"storage element {name}: {url!r} is not tape:///path?...")
    values: dict[str, object] = {"root": Path(unquote(parts.path))}
    known = {f.name for f in fields(TapeConfig)} - {"root"}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key not in known:
            raise InvalidStorageElement(
                f"storage element {name}: unknown tape parameter {key!r} "
                f"(known: {', '.join(sorted(known))})"
            )
        try:
            if key in _INTEGERS:
                value: object = int(raw)
                if value < _INTEGERS[key]:  # type: ignore[operator]
                    raise ValueError
            elif key in _FLOATS:
                value = float(raw)
                if not value >= 0 or value == float("inf"):
                    raise ValueError
            else:  # pools
                value = tuple(raw.split(","))
                if not value or not all(_POOL.match(pool) for pool in value):
                    raise ValueError
        except ValueError:
            raise InvalidStorageElement(
                f"storage element {name}: tape parameter {key}={raw!r} is not valid"
            ) from None
        values[key] = value
    return TapeConfig(**values)  # type: ignore[arg-type]
