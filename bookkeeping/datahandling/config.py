"""The data-handling settings: the life-cycle rules, the archiver's pools and thresholds, the
recall daemon's leases. They are the ``[datahandling]`` table of the settings file
(``--config`` / ``BK_CONFIG``), every key optional::

    [datahandling]
    flush_bytes = 10_000_000_000     # a pool's queue is written when it holds this much,
    flush_files = 1000               # or this many files,
    flush_age_seconds = 3600         # or its oldest file waited this long
    lease_seconds = 3600             # a pin's lease unless the request asks another
    stale_after_seconds = 60         # a daemon's claim not renewed for this long is free
    clean_margin = 1.0               # clean a disk pool when free < watermark * (1 + margin)
    recall_tape_age_seconds = 2.0    # a cartridge is read once no recall for it came for this
                                     # long (or its oldest waited 10x): a burst shares a mount

    [datahandling.archive]           # disk storage element -> tape storage element
    daq1 = "tape1"                   # (default: the only tape element, if there is one)

    [[datahandling.rules]]           # when a file of this type closes,
    closed = "mc"                    # the disk copies of its inputs of these types go
    delete_inputs = ["mcraw"]        # (the seed's MC production rule, the default)

    [datahandling.recall_clients.webui]  # who may call the recall daemon's API: a name,
    token = "a secret of 16+ chars"      # the bearer token it sends (BK_RECALL_TOKEN),
    on_behalf = true                     # and whether it names the owner of its requests
                                         # (a service acting for its signed-in users);
                                         # otherwise the owner is the client's name

Rules are data: a new file type needs a new table, not new code.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bookkeeping.datahandling.requests import MAX_LEASE
from bookkeeping.errors import ConfigError


@dataclass(frozen=True)
class CloseRule:
    """When a file of type ``closed`` is closed, delete the disk copies of its direct
    inputs whose type is one of ``delete_inputs`` (file types compare without case)."""

    closed: str
    delete_inputs: tuple[str, ...]

    def applies_to(self, file_type: str) -> bool:
        return self.closed.casefold() == file_type.casefold()

    def deletes(self, file_type: str) -> bool:
        return file_type.casefold() in {t.casefold() for t in self.delete_inputs}


DEFAULT_RULES = (CloseRule("mc", ("mcraw",)),)
MIN_TOKEN = 16  # characters of a recall client's token


@dataclass(frozen=True)
class RecallCaller:
    """A client of the recall API: its name, its bearer token and whether it may name the
    owner of a request (``on_behalf``: the web UI, for the user signed in there)."""

    name: str
    token: str = field(repr=False)
    on_behalf: bool = False


@dataclass(frozen=True)
class DataHandlingConfig:
    flush_bytes: int = 10_000_000_000
    flush_files: int = 1000
    flush_age_seconds: float = 3600.0
    lease_seconds: int = 3600
    stale_after_seconds: float = 60.0
    clean_margin: float = 1.0
    recall_tape_age_seconds: float = 2.0
    archive: dict[str, str] = field(default_factory=dict)
    rules: tuple[CloseRule, ...] = DEFAULT_RULES
    recall_clients: tuple[RecallCaller, ...] = ()


_NUMBERS = {
    "flush_bytes": int,
    "flush_files": int,
    "flush_age_seconds": float,
    "lease_seconds": int,
    "stale_after_seconds": float,
    "clean_margin": float,
    "recall_tape_age_seconds": float,
}


def _number(source: str, key: str, value: Any) -> int | float:
    kind = _NUMBERS[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: datahandling.{key} must be a number, not {value!r}")
    # TOML has nan and inf: a NaN threshold compares false with everything (never reached).
    if not math.isfinite(value) or value < 0 or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"{source}: datahandling.{key} must be a non-negative {kind.__name__}")
    if key == "lease_seconds" and not 1 <= value <= MAX_LEASE:
        # The recall API refuses any other lease: a default it refuses fails every request.
        raise ConfigError(f"{source}: datahandling.lease_seconds must be 1 to {MAX_LEASE}")
    return kind(value)


def _rule(source: str, index: int, table: Any) -> CloseRule:
    where = f"{source}: datahandling.rules[{index}]"
    if not isinstance(table, dict) or set(table) != {"closed", "delete_inputs"}:
        raise ConfigError(f"{where} needs exactly the keys closed and delete_inputs")
    closed, inputs = table["closed"], table["delete_inputs"]
    if not isinstance(closed, str) or not closed:
        raise ConfigError(f"{where}.closed must be a file type")
    if not isinstance(inputs, list) or not all(isinstance(t, str) and t for t in inputs):
        raise ConfigError(f"{where}.delete_inputs must be a list of file types")
    return CloseRule(closed, tuple(inputs))


def _callers(source: str, table: Any) -> tuple[RecallCaller, ...]:
    where = f"{source}: datahandling.recall_clients"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of clients (name -> token, on_behalf)")
    callers = []
    for name, entry in table.items():
        if not isinstance(entry, dict) or not set(entry) <= {"token", "on_behalf"}:
            raise ConfigError(f"{where}.{name} takes the keys token and on_behalf only")
        token, on_behalf = entry.get("token"), entry.get("on_behalf", False)
        if not isinstance(token, str) or len(token) < MIN_TOKEN:
            raise ConfigError(f"{where}.{name}.token must be a secret of {MIN_TOKEN}+ characters")
        if not isinstance(on_behalf, bool):
            raise ConfigError(f"{where}.{name}.on_behalf must be true or false")
        if not 1 <= len(name) <= 64:
            raise ConfigError(f"{where}: a client name has 1 to 64 characters, not {name[:20]!r}")
        callers.append(RecallCaller(name, token, on_behalf))
    if len({c.token for c in callers}) != len(callers):
        raise ConfigError(f"{where}: two clients share a token (a token names one client)")
    return tuple(callers)


def parse(table: dict[str, Any], source: str = "datahandling") -> DataHandlingConfig:
    known = {f.name for f in fields(DataHandlingConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown datahandling setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in _NUMBERS:
            values[key] = _number(source, key, value)
    archive = table.get("archive", {})
    if not isinstance(archive, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in archive.items()
    ):
        raise ConfigError(f"{source}: datahandling.archive maps disk elements to tape elements")
    values["archive"] = dict(archive)
    if "rules" in table:
        if not isinstance(table["rules"], list):
            raise ConfigError(f"{source}: datahandling.rules must be an array of tables")
        values["rules"] = tuple(_rule(source, i, r) for i, r in enumerate(table["rules"]))
    if "recall_clients" in table:
        values["recall_clients"] = _callers(source, table["recall_clients"])
    return DataHandlingConfig(**values)


def load(config_file: Path | None = None) -> DataHandlingConfig:
    """The ``[datahandling]`` table of ``config_file`` (else ``$BK_CONFIG``), or defaults."""
    if config_file is None and os.environ.get("BK_CONFIG"):
        config_file = Path(os.environ["BK_CONFIG"]).expanduser()
    if config_file is None:
        return DataHandlingConfig()
    try:
        with config_file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {config_file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from None
    table = data.get("datahandling", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config_file}: datahandling must be a table")
    return parse(table, str(config_file))
