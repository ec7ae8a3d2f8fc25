"""The translation of our errors for each front-end, generated from the hierarchy.

One table per front-end, keyed by the error's ``kind`` (a class attribute every subclass
inherits, ``bookkeeping.errors``):

- the AMGA protocol answers the class's ``code`` (unique; ``class_for_code`` inverts it so a
  client raises the class the server raised);
- the DB-API driver raises the PEP 249 class of the error's SQLSTATE
  (``sqlstate_of``; the class's own ``sqlstate`` when it names one, else its kind's);
- the web answers ``http_status_of`` with the JSON shape ``{"status", "message",
  "details": {"code", "error", ...}}`` and ``Retry-After`` on an outage.

``docs/errors.md`` is ``render_markdown()``'s output; a test keeps it so.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import bookkeeping
from bookkeeping.errors import BookkeepingError, Kind

HTTP_STATUS: dict[Kind, int] = {
    Kind.INVALID: 400,
    Kind.SYNTAX: 400,
    Kind.DATA: 422,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.CONSTRAINT: 409,
    Kind.PERMISSION: 403,
    Kind.AUTHENTICATION: 401,
    Kind.TRANSACTION: 409,
    Kind.UNSUPPORTED: 400,
    Kind.UNAVAILABLE: 503,
    Kind.NOT_INITIALISED: 503,
    Kind.CONFIG: 500,
    Kind.INTERNAL: 500,
}

SQLSTATE: dict[Kind, str] = {
    Kind.INVALID: "22023",  # invalid_parameter_value
    Kind.SYNTAX: "42601",  # syntax_error
    Kind.DATA: "22000",  # data_exception
    Kind.NOT_FOUND: "42704",  # undefined_object
    Kind.CONFLICT: "42710",  # duplicate_object
    Kind.CONSTRAINT: "23000",  # integrity_constraint_violation
    Kind.PERMISSION: "42501",  # insufficient_privilege
    Kind.AUTHENTICATION: "28000",  # invalid_authorization_specification
    Kind.TRANSACTION: "25000",  # invalid_transaction_state
    Kind.UNSUPPORTED: "0A000",  # feature_not_supported
    Kind.UNAVAILABLE: "08006",  # connection_failure
    Kind.NOT_INITIALISED: "55000",  # object_not_in_prerequisite_state
    Kind.CONFIG: "F0000",  # config_file_error
    Kind.INTERNAL: "XX000",  # internal_error
}

# Seconds a client is told to wait before retrying after an outage (HTTP Retry-After).
RETRY_AFTER_SECONDS = 5

# Modules holding error classes outside files named errors.py / exceptions.py.
_EXTRA_MODULES = ("bookkeeping.writer.changes",)


def _class_of(error: type[BookkeepingError] | BookkeepingError) -> type[BookkeepingError]:
    if isinstance(error, type):
        return error
    cls = type(error)
    if error.code != cls.code:
        # A client's exception carrying the code a server answered: that code's class.
        return class_for_code(error.code) or cls
    return cls


def sqlstate_of(error: type[BookkeepingError] | BookkeepingError) -> str:
    cls = _class_of(error)
    return cls.sqlstate or SQLSTATE[cls.kind]


def http_status_of(error: type[BookkeepingError] | BookkeepingError) -> int:
    return HTTP_STATUS[_class_of(error).kind]


def _import_error_modules() -> None:
    # Files, not pkgutil: a folder without __init__.py (a namespace package) counts too.
    root = Path(bookkeeping.__file__).resolve().parent
    for name in ("errors.py", "exceptions.py"):
        for path in sorted(root.rglob(name)):
            parts = path.relative_to(root.parent).with_suffix("").parts
            importlib.import_module(".".join(parts))
    for name in _EXTRA_MODULES:
        importlib.import_module(name)


def _subclasses(cls: type[BookkeepingError]) -> Iterator[type[BookkeepingError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def defining_classes() -> list[type[BookkeepingError]]:
    """Every error class that defines a code of its own (a subclass that keeps its parent's
    code is the same error to every front-end), by code."""
    _import_error_modules()
    found: set[type[BookkeepingError]] = {BookkeepingError, *_subclasses(BookkeepingError)}
    return sorted(
        (
            cls
            for cls in found
            if cls.__module__.startswith("bookkeeping.") and isinstance(vars(cls).get("code"), int)
        ),
        key=lambda cls: cls.code,
    )


_BY_CODE: dict[int, type[BookkeepingError]] = {}


def class_for_code(code: int) -> type[BookkeepingError] | None:
    """The error class a wire code stands for (None for a code we never send)."""
    if not _BY_CODE:
        _BY_CODE.update({cls.code: cls for cls in defining_classes()})
    return _BY_CODE.get(code)


def _summary(cls: type[BookkeepingError]) -> str:
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split()).replace("|", "\\|") or cls.__name__


def _package(cls: type[BookkeepingError]) -> str:
    parts = cls.__module__.split(".")
    return parts[1] if len(parts) > 2 else parts[0]


def render_markdown() -> str:
    """The text of ``docs/errors.md``."""
    lines = [
        "# Errors",
        "",
        "Every error a user can meet, with what each front-end answers: the AMGA protocol's",
        "response code, the SQLSTATE (and so the PEP 249 class) of the DB-API driver, and the",
        'HTTP status of the web (its JSON body is `{"status", "message", "details":',
        '{"code", "error", ...}}`). Generated from the hierarchy by',
        "`python -m bookkeeping.error_table > docs/errors.md`; a test keeps it so.",
        "",
        "Outages (kind *unavailable*) are transient: retry. The web adds",
        f"`Retry-After: {RETRY_AFTER_SECONDS}` to its 503. Subclasses that keep their parent's",
        "code are not listed: they mean the same to every front-end.",
        "",
        "| code | error | package | kind | SQLSTATE | HTTP | meaning |",
        "|---:|---|---|---|---|---:|---|",
    ]
    for cls in defining_classes():
        lines.append(
            f"| {cls.code} | `{cls.__qualname__}` | {_package(cls)} | {cls.kind.value} "
            f"| {sqlstate_of(cls)} | {http_status_of(cls)} | {_summary(cls)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
