"""Metadata descriptions (MDD, seed 003's E1/E2): which fields, where in a file, what type.

A description is a TOML file (``descriptions/generated.toml`` is the one of the files
``bk generate --materialise`` writes). Each field names where its value is:

- ``key = "Run"``: a ``Key: value`` line of the file's text header (``[header]``: its
  first line ``magic``, the ``separator``, and ``max_bytes`` within which an empty line
  ends it);
- ``offset = N`` with ``format`` (a ``struct`` format, e.g. ``">I"``) for a binary value,
  or with ``length`` for text (UTF-8, NULs stripped);
- ``computed = "size"`` or ``"adler32"``: of the whole file's bytes;

and its ``type`` (``str`` by default, ``int``, ``bool`` — ``Y``/``N``, ``true``/``false`` —
or ``datetime``, ISO), ``optional = true`` when it may be missing or empty. Sections:
``[job]`` and ``[file]`` (the writer's job report and output file fields),
``[event_type]`` (``description``), ``[parameters]`` (extra file parameters by name).
"""

from __future__ import annotations

import struct
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bookkeeping.aggregation.errors import ExtractionFailed, InvalidDescription
from bookkeeping.storage.checksum import adler32_of_file

DESCRIPTIONS = Path(__file__).parent / "descriptions"
TYPES = ("str", "int", "bool", "datetime")
COMPUTED = ("size", "adler32")
SECTIONS = ("header", "job", "file", "event_type", "parameters")
JOB_FIELDS = {
    "config_name": True,
    "config_version": True,
    "job_date": True,
    "dirac_job_id": True,
    "production": True,
    "conditions": True,
    "processing_pass": True,
    "run": False,
}  # fmt: skip  (name: required)
FILE_FIELDS = {
    "lfn": True, "file_type": True, "file_type_version": True, "guid": True, "size": True,
    "events": True, "event_type": True, "creation_time": True, "visible": False,
    "checksum": True,
}  # fmt: skip


@dataclass(frozen=True)
class Locator:
    name: str
    type: str = "str"
    optional: bool = False
    key: str | None = None
    offset: int | None = None
    format: str | None = None
    length: int | None = None
    computed: str | None = None


@dataclass(frozen=True)
class Description:
    magic: str | None
    max_bytes: int
    separator: str
    job: dict[str, Locator]
    file: dict[str, Locator]
    event_type: dict[str, Locator]
    parameters: dict[str, Locator]


def _locator(section: str, name: str, spec: Any) -> Locator:
    where = f"[{section}] {name}"
    if not isinstance(spec, dict):
        raise InvalidDescription(f'{where}: expected a table like {{ key = "..." }}')
    unknown = set(spec) - {"key", "offset", "format", "length", "computed", "type", "optional"}
    if unknown:
        raise InvalidDescription(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    places = [k for k in ("key", "offset", "computed") if k in spec]
    if len(places) != 1:
        raise InvalidDescription(f"{where}: give exactly one of key, offset, computed")
    kind = spec.get("type", "int" if "format" in spec else "str")
    if kind not in TYPES:
        raise InvalidDescription(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    if "computed" in spec and spec["computed"] not in COMPUTED:
        raise InvalidDescription(f"{where}: computed must be one of {', '.join(COMPUTED)}")
    if "offset" in spec:
        if not isinstance(spec["offset"], int) or spec["offset"] < 0:
            raise InvalidDescription(f"{where}: offset must be a byte position")
        if ("format" in spec) == ("length" in spec):
            raise InvalidDescription(f"{where}: an offset needs a format or a length")
        if "format" in spec:
            try:
                struct.calcsize(spec["format"])
            except struct.error as exc:
                raise InvalidDescription(f"{where}: format {spec['format']!r}: {exc}") from None
    return Locator(
        name=name,
        type=kind,
        optional=bool(spec.get("optional", False)),
        key=spec.get("key"),
        offset=spec.get("offset"),
        format=spec.get("format"),
        length=spec.get("length"),
        computed=spec.get("computed"),
    )


def load(source: str) -> Description:
    """A description by path, or by the name of one shipped (``generated``)."""
    path = Path(source)
    if not path.exists() and (DESCRIPTIONS / f"{source}.toml").exists():
        path = DESCRIPTIONS / f"{source}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.stem for p in DESCRIPTIONS.glob("*.toml")))
        raise InvalidDescription(
            f"no metadata description {source!r} (a TOML file, or one of: {shipped})"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidDescription(f"{path}: not TOML: {exc}") from None
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise InvalidDescription(f"{path}: unknown section [{sorted(unknown)[0]}]")
    sections = {
        name: {k: _locator(name, k, v) for k, v in data.get(name, {}).items()}
        for name in ("job", "file", "event_type", "parameters")
    }
    for section, known in (("job", JOB_FIELDS), ("file", FILE_FIELDS)):
        for name in set(sections[section]) - set(known):
            raise InvalidDescription(f"{path}: [{section}] has no field {name!r}")
        for name, required in known.items():
            if required and name not in sections[section]:
                raise InvalidDescription(f"{path}: [{section}] lacks the field {name!r}")
    header = data.get("header", {})
    return Description(
        magic=header.get("magic"),
        max_bytes=int(header.get("max_bytes", 8192)),
        separator=str(header.get("separator", ": ")),
        **sections,
    )


def read_header(description: Description, file: Path, head: bytes) -> dict[str, str]:
    if description.magic is None:
        return {}
    text = head.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines[0] != description.magic:
        raise ExtractionFailed(f"{file}: does not start with {description.magic!r}")
    values: dict[str, str] = {}
    for line in lines[1:]:
        if line == "":
            return values
        key, found, value = line.partition(description.separator)
        if not found:
            raise ExtractionFailed(
                f"{file}: header line {line[:60]!r} has no {description.separator!r}"
            )
        values[key] = value
    raise ExtractionFailed(
        f"{file}: the header does not end (no empty line) within {description.max_bytes} bytes"
    )


def _typed(file: Path, locator: Locator, raw: Any) -> Any:
    if locator.type == "str" or not isinstance(raw, str):
        return raw
    try:
        if locator.type == "int":
            return int(raw)
        if locator.type == "datetime":
            return datetime.fromisoformat(raw).replace(microsecond=0)
        if raw in ("Y", "y", "true", "True", "1"):
            return True
        if raw in ("N", "n", "false", "False", "0"):
            return False
        raise ValueError(raw)
    except ValueError:
        raise ExtractionFailed(f"{file}: {locator.name} {raw!r} is not a {locator.type}") from None


def extract_values(description: Description, file: Path) -> dict[str, dict[str, Any]]:
    """The values of every described field, typed, by section; ``ExtractionFailed`` naming
    the file and the field for anything missing or malformed."""
    with open(file, "rb") as handle:
        head = handle.read(description.max_bytes)
    header = read_header(description, file, head)
    computed: dict[str, Any] = {}
    out: dict[str, dict[str, Any]] = {}
    for section in ("job", "file", "event_type", "parameters"):
        values: dict[str, Any] = {}
        for name, locator in getattr(description, section).items():
            raw: Any
            if locator.computed is not None:
                if not computed:
                    computed["size"], computed["adler32"] = adler32_of_file(file)
                raw = computed[locator.computed]
                raw = str(raw) if section == "parameters" else raw
            elif locator.key is not None:
                raw = header.get(locator.key)
            else:
                raw = _at_offset(file, head, locator)
            if raw is None or raw == "":
                if locator.optional:
                    continue
                raise ExtractionFailed(f"{file}: no value for {locator.name}")
            values[name] = _typed(file, locator, raw)
        out[section] = values
    return out


def _at_offset(file: Path, head: bytes, locator: Locator) -> Any:
    assert locator.offset is not None
    if locator.format is not None:
        try:
            return struct.unpack_from(locator.format, head, locator.offset)[0]
        except struct.error:
            raise ExtractionFailed(f"{file}: too short for {locator.name}") from None
    assert locator.length is not None
    chunk = head[locator.offset : locator.offset + locator.length]
    return chunk.decode("utf-8", "replace").rstrip("\x00").strip()
