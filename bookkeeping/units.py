"""Sizes as people read them, spelled one way everywhere (CLI, web, reports)."""

from __future__ import annotations

UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def human_bytes(value: int | float | None) -> str:
    """Decimal units (1 kB = 1000 B), three significant figures: ``1.23 GB``; ``""`` for
    None."""
    if value is None:
        return ""
    size = float(value)
    for unit in UNITS:
        if abs(size) < 1000 or unit == UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
