"""Template filters: numbers people can read."""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from bookkeeping.units import human_bytes

_NUMERIC_TYPES = {"int", "smallint", "bigint", "float", "double", "numeric"}


def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", "\u202f")


def is_numeric_type(spec: str) -> bool:
    """Whether a catalogue attribute type holds numbers (their columns are right-aligned)."""
    return spec.split("(", 1)[0].strip().lower() in _NUMERIC_TYPES


def breakable(value: str | None) -> Markup:
    """A path (LFN, PFN) that may wrap after its slashes: browsers do not break before a
    digit after "/", and breaking anywhere cuts the file name in the middle."""
    if value is None:
        return Markup("")
    return Markup("/<wbr>").join(escape(part) for part in str(value).split("/"))


def no_nul(value: object) -> object:
    """Every value a template prints: NUL, which HTML forbids in text, shown as U+FFFD (as
    browsers would) so that no page carries the raw byte (stored data may hold one)."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def register_filters(app: Flask) -> None:
    app.jinja_env.finalize = no_nul
    app.jinja_env.filters["bytes"] = human_bytes
    app.jinja_env.filters["thousands"] = thousands
    app.jinja_env.filters["breakable"] = breakable
    app.jinja_env.tests["numeric_type"] = is_numeric_type
