"""Template filters: numbers people can read."""

from __future__ import annotations

from flask import Flask

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def human_bytes(value: int | None) -> str:
    """Decimal units (1 kB = 1000 B), three significant figures: ``1.23 GB``."""
    if value is None:
        return ""
    size = float(value)
    for unit in _UNITS:
        if abs(size) < 1000 or unit == _UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", "\u202f")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["bytes"] = human_bytes
    app.jinja_env.filters["thousands"] = thousands
