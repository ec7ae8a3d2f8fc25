"""The bookkeeping laid out as catalogue directories (seed 001, Appendix A).

Every directory holds one entry per warehouse row (per owner for the parameter
directories); entry names are the row's id, so a second insert of the same row is refused by
the catalogue itself. Parameter directories (``/fileParams``, ``/jobParams``,
``/typeParams``) grow one attribute per parameter *name*, added on first use.

Attribute types follow Appendix A, except that the parameters the writer itself stores
(sizes, event counts, event types, productions, runs, DIRAC job ids) are ``bigint``: the
seed's ``VARCHAR2`` cannot be compared or summed as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import cast

from bookkeeping.amga_adapter.bookkeeping.sessions import LayoutSession
from bookkeeping.amga_adapter.engine.errors import DirectoryExists
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.writer.model import (
    FILE_PARAMETER_CHECKSUM,
    FILE_PARAMETER_EVENT_TYPE,
    FILE_PARAMETER_EVENTS,
    FILE_PARAMETER_GUID,
    FILE_PARAMETER_SIZE,
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
    ReplicaSpec,
)

JOBS = "/jobs"
FILES = "/files"
INPUT_FILES = "/inputFiles"
EVENT_TYPES = "/evtTypes"
FILE_PARAMS = "/fileParams"
JOB_PARAMS = "/jobParams"
TYPE_PARAMS = "/typeParams"
QUALITY_PARAMS = "/qualityParams"
REPLICAS = "/replicas"

# Appendix A's attributes (plus the columns the warehouse has and the seed's tables lack:
# file creation date and visibility, replica storage class, area and status).
BASE_ATTRIBUTES: dict[str, dict[str, str]] = {
    JOBS: {
        "JOB_ID": "bigint",
        "CONFIGNAME": "varchar(128)",
        "CONFIGVERSION": "varchar(128)",
        "JOBDATE": "timestamp",
    },
    FILES: {
        "JOB_ID": "bigint",
        "TYPE_ID": "int",
        "LOGNAME": "varchar(255)",
        "FILE_ID": "bigint",
        "CREATIONDATE": "timestamp",
        "VISIBLE": "smallint",
        "STATE": "varchar(8)",  # the life cycle (bookkeeping/writer/lifecycle.py)
    },
    INPUT_FILES: {"JOB_ID": "bigint", "FILE_ID": "bigint"},
    EVENT_TYPES: {
        "DESCRIPTION": "varchar(255)",
        "PRIMARY": "varchar(255)",
        "DECAY": "varchar(255)",
        "TYPE_ID": "bigint",
    },
    # The parameters every file and job has are there from the start; others come on use.
    FILE_PARAMS: {
        "FILE_ID": "bigint",
        FILE_PARAMETER_GUID: "varchar(255)",
        FILE_PARAMETER_SIZE: "bigint",
        FILE_PARAMETER_EVENTS: "bigint",
        FILE_PARAMETER_EVENT_TYPE: "bigint",
        FILE_PARAMETER_CHECKSUM: "varchar(255)",
    },
    JOB_PARAMS: {
        "JOB_ID": "bigint",
        JOB_PARAMETER_DIRAC_JOB_ID: "bigint",
        JOB_PARAMETER_PRODUCTION: "bigint",
        JOB_PARAMETER_RUN: "bigint",
        JOB_PARAMETER_CONDITIONS: "varchar(255)",
        JOB_PARAMETER_PROCESSING_PASS: "varchar(255)",
    },
    TYPE_PARAMS: {"TYPE_ID": "int", "Name": "varchar(255)", "Version": "varchar(255)"},
    QUALITY_PARAMS: {
        "FILE_ID": "bigint",
        "QUALITY_ID": "bigint",
        "Flag": "varchar(255)",
        "Group": "varchar(255)",
    },
    REPLICAS: {},
}

REPLICA_ATTRIBUTES = {
    "REPLICA": "varchar(512)",
    "FILE_ID": "bigint",
    "STORAGECLASS": "varchar(16)",
    "AREA": "varchar(64)",
    "STATUS": "varchar(16)",
    # The storage element holding the copy's bytes and the path there ("" when none).
    "SE": "varchar(64)",
    "SEPATH": "varchar(512)",
}

# The owner-id attribute of each parameter directory (not a parameter itself).
PARAMETER_KEYS = {FILE_PARAMS: "FILE_ID", JOB_PARAMS: "JOB_ID", TYPE_PARAMS: "TYPE_ID"}

# Parameters stored as numbers (their string form is ``str(int)``, exactly what the
# warehouse stores, so reading them back as text gives the same answer).
NUMERIC_PARAMETERS: dict[str, frozenset[str]] = {
    FILE_PARAMS: frozenset({FILE_PARAMETER_SIZE, FILE_PARAMETER_EVENTS, FILE_PARAMETER_EVENT_TYPE}),
    JOB_PARAMS: frozenset(
        {JOB_PARAMETER_DIRAC_JOB_ID, JOB_PARAMETER_PRODUCTION, JOB_PARAMETER_RUN}
    ),
}

# --- parameter names <-> attribute names --------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ENCODED_PREFIX = "Q_"


def attribute_name(directory: str, parameter: str) -> str:
    """The attribute holding ``parameter`` in ``directory``.

    The query language names attributes with word characters only, and the owner id is an
    attribute of its own; other names (``Gauss.Version``, ``FILE_ID``) are spelt
    ``Q_<name>`` with every character outside ``[A-Za-z0-9]`` as ``_<hex>_``, reversibly.
    """
    key = PARAMETER_KEYS.get(directory)
    if _PLAIN.match(parameter) and not parameter.startswith(_ENCODED_PREFIX) and parameter != key:
        return parameter
    encoded = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in parameter)
    return _ENCODED_PREFIX + encoded


def parameter_name(attribute: str) -> str:
    if not attribute.startswith(_ENCODED_PREFIX):
        return attribute
    return re.sub(r"_([0-9a-f]+)_", lambda m: chr(int(m.group(1), 16)), attribute[2:])


def parameter_type(directory: str, parameter: str) -> str | None:
    """``bigint`` for the numeric parameters, ``None`` (varchar(255)) for the others."""
    return "bigint" if parameter in NUMERIC_PARAMETERS.get(directory, ()) else None


def replica_directory(site: str) -> str:
    return f"{REPLICAS}/{site}"


def replica_values(file_id: int, copy: ReplicaSpec) -> dict[str, object]:
    """The attributes of a copy's entry ``<file id>_<index>`` in its site's directory (the
    index is the copy's position among the file's copies: the first one is its LOCATION)."""
    return {
        "FILE_ID": file_id,
        "STORAGECLASS": copy.storage_class,
        "AREA": copy.area,
        "STATUS": copy.status,
        "REPLICA": copy.pfn,
        "SE": copy.se,
        "SEPATH": copy.path,
    }


# --- query-language literals --------------------------------------------------------------


def literal(value: int | str) -> str:
    """A query-language literal: the compiler binds it as a parameter; strings are one
    double-quoted token whatever they contain."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no literal for {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal_list(values: Sequence[int | str]) -> str:
    return "(" + ", ".join(literal(value) for value in values) + ")"


# --- creating the layout ------------------------------------------------------------------


def ensure_directory(session: LayoutSession, path: str, attributes: Mapping[str, str]) -> None:
    """Create ``path`` unless it exists (another writer may create it at the same time) and
    add the attributes it lacks. Schema changes: call outside a transaction."""
    try:
        if isinstance(session, CatalogueSession):
            # The engine makes the table with its columns at once (one CREATE TABLE, not
            # one ALTER TABLE per attribute: most of a new view shard's cost).
            session.createdir(path, attributes=dict(attributes))
            return
        session.createdir(path)
    except DirectoryExists:
        pass
    if attributes:
        session.ensure_attributes(path, dict(attributes))


def ensure_replica_directory(session: CatalogueSession, site: str) -> None:
    """The directory of a site's copies, indexed by file: a file's copies are looked up in
    every site (changes, ``replicas``) and must not cost a scan of each. Schema changes:
    call outside a transaction."""
    path = replica_directory(site)
    ensure_directory(session, path, REPLICA_ATTRIBUTES)
    session.create_index(path, ["FILE_ID"])


# What makes concurrent writers safe: an LFN is recorded once, a DIRAC job once, a file
# type (Name, Version) once.
UNIQUE = (
    (FILES, ("LOGNAME",)),
    (JOB_PARAMS, (JOB_PARAMETER_DIRAC_JOB_ID,)),
    (TYPE_PARAMS, ("Name", "Version")),
)


# The key attributes every read looks entries up by or joins on (seed 001's point: a
# parameter is a column, so "the size of the file whose GUID is g" is one indexed look-up).
# Without them each join and each look-up scans its directory. Entry names (the row ids)
# are the tables' primary keys already. LOGNAME has the unique index of ``UNIQUE`` too, but
# that one compares in the database's collation; the engine's indexes are in the query
# language's (code points), which lookups by LFN and listings ordered by it use.
KEY_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (FILES, ("FILE_ID",)),
    (FILES, ("LOGNAME",)),
    (FILES, ("JOB_ID",)),
    (FILES, ("TYPE_ID",)),
    (FILE_PARAMS, ("FILE_ID",)),
    (FILE_PARAMS, (FILE_PARAMETER_GUID,)),
    (JOBS, ("JOB_ID",)),
    (JOB_PARAMS, ("JOB_ID",)),
    (JOB_PARAMS, (JOB_PARAMETER_PRODUCTION, JOB_PARAMETER_RUN)),
    (TYPE_PARAMS, ("TYPE_ID",)),
    (QUALITY_PARAMS, ("FILE_ID",)),
    (INPUT_FILES, ("FILE_ID",)),
    (INPUT_FILES, ("JOB_ID",)),
    (EVENT_TYPES, ("TYPE_ID",)),
)


def ensure_key_indexes(session: LayoutSession) -> None:
    """Create the indexes of ``KEY_INDEXES`` that are missing (idempotent; schema changes:
    call outside a transaction). A session without the engine's index operation (one over
    the AMGA protocol, which has no command for it) leaves them to the server's layout."""
    if getattr(session, "list_indexes", None) is None:
        return
    engine_session = cast("CatalogueSession", session)  # it has the index operations
    by_directory: dict[str, list[tuple[str, ...]]] = {}
    for path, attributes in KEY_INDEXES:
        by_directory.setdefault(path, []).append(attributes)
    for path, wanted in by_directory.items():
        present = {
            index.attributes
            for index in engine_session.list_indexes(path)
            if not any(index.descending)
        }
        for attributes in wanted:
            if attributes not in present:
                engine_session.create_index(path, list(attributes))


def ensure_layout(session: LayoutSession) -> None:
    for path, attributes in BASE_ATTRIBUTES.items():
        ensure_directory(session, path, attributes)
    for path, key in UNIQUE:
        existing = session.constraint_list(path)
        wanted = ["unique", ",".join(key)]
        if not any(line.split(" ", 2)[1:] == wanted for line in existing):
            # Two processes creating the layout at once may both add it: a redundant
            # index, never a missing one.
            session.constraint_add_unique(path, list(key))
    # Site directories laid out before a copy named its storage element gain SE and SEPATH
    # (a no-op once they have them).
    for path, kind in session.dir(REPLICAS):
        if kind == "collection":
            session.ensure_attributes(path, REPLICA_ATTRIBUTES)
    ensure_key_indexes(session)
