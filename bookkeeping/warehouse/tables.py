"""The warehouse schema: the traditional relational bookkeeping (seed 001, Figure A1).

Table names are the catalogue's directory names (``/jobs`` -> ``jobs``, ``/fileParams`` ->
``fileParams``, ...) and column names are the lower-cased attribute names of Appendix A, so
SQL written for the warehouse also reads the catalogue layout (``bookkeeping.jdbc_compat``).
Parameters are ``(owner id, name, value)`` rows; the catalogue turns each name into a column.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from bookkeeping.metadata import metadata

NAME_LENGTH = 128
VALUE_LENGTH = 255
LFN_LENGTH = 255

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", BigInteger, primary_key=True, autoincrement=False),
    Column("configname", String(128), nullable=False),
    Column("configversion", String(128), nullable=False),
    Column("jobdate", DateTime, nullable=False),
    Index(None, "configname", "configversion"),
)

# type_id is the file type (its Name and Version are typeParams rows).
files = Table(
    "files",
    metadata,
    Column("file_id", BigInteger, primary_key=True, autoincrement=False),
    Column("job_id", BigInteger, ForeignKey("jobs.job_id"), nullable=False, index=True),
    Column("type_id", Integer, nullable=False, index=True),
    Column("logname", String(LFN_LENGTH), nullable=False, unique=True),
    Column("creationdate", DateTime, nullable=False),
    Column("visible", Boolean, nullable=False),
    # The life cycle (bookkeeping/writer/lifecycle.py); the archiver looks files up by it.
    Column("state", String(8), nullable=False, server_default="closed", index=True),
)

input_files = Table(
    "inputFiles",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.job_id"), primary_key=True),
    Column("file_id", BigInteger, ForeignKey("files.file_id"), primary_key=True, index=True),
)

event_types = Table(
    "evtTypes",
    metadata,
    Column("type_id", Integer, primary_key=True, autoincrement=False),
    Column("description", String(255), nullable=False),
    Column("primary", String(255), nullable=False),
    Column("decay", String(255), nullable=False),
)


def _parameter_table(
    name: str,
    owner: str,
    owner_type: type[Integer],
    target: str | None,
    *,
    covering: bool = False,
) -> Table:
    owner_column = (
        Column(owner, owner_type, ForeignKey(target), primary_key=True)
        if target
        else Column(owner, owner_type, primary_key=True, autoincrement=False)
    )
    return Table(
        name,
        metadata,
        owner_column,
        Column("name", String(NAME_LENGTH), primary_key=True),
        Column("value", String(VALUE_LENGTH), nullable=False),
        # "the file whose GUID is g": find by (name, value), then self-join on the owner.
        # ``covering`` (migration 0006): the owner is in the index too, so "the jobs whose
        # ProcessingPass is p" (a dataset selection's first step, warehouse/dataset.py) is
        # one index range that never visits the table. Not on fileParams, the largest
        # table: there SQLite would rather scan a covering (name) range of every file than
        # start from the selected jobs.
        Index(None, "name", "value", *([owner] if covering else [])),
    )


file_params = _parameter_table("fileParams", "file_id", BigInteger, "files.file_id")
job_params = _parameter_table("jobParams", "job_id", BigInteger, "jobs.job_id", covering=True)
type_params = _parameter_table("typeParams", "type_id", Integer, None, covering=True)
# name = the quality group (e.g. "DQ"), value = its flag (e.g. "OK", "BAD").
quality_params = _parameter_table("qualityParams", "file_id", BigInteger, "files.file_id")

# One row per copy: tape or disk copy at a site, or a recall copy in a disk area.
replicas = Table(
    "replicas",
    metadata,
    Column("file_id", BigInteger, ForeignKey("files.file_id"), primary_key=True),
    Column("site", String(64), primary_key=True),
    Column("storageclass", String(16), primary_key=True),
    Column("area", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("replica", String(512), nullable=False),
    # The storage element holding the copy's bytes and the path there ("" when none).
    Column("se", String(64), nullable=False, server_default=""),
    Column("se_path", String(512), nullable=False, server_default=""),
)

# The writer's own tables (not in Figure A1; readers never use them).
# Ids are handed out in blocks from one counter row per kind (``bookkeeping.warehouse.ids``):
# a writer reserves its block in a short transaction of its own, so concurrent writers never
# hold the row for the length of their writes.
id_counters = Table(
    "idCounters",
    metadata,
    Column("name", String(32), primary_key=True),  # jobs, files, file_types
    Column("next_value", BigInteger, nullable=False),
)

# The DIRAC job id of each recorded report. Its primary key makes "a report is recorded
# once" a guarantee of the database, also for two writers given the same report at the same
# moment; it is also the writer's fast look-up of recorded reports (an integer key, where the
# jobParams row is a (name, value) string pair).
dirac_jobs = Table(
    "diracJobs",
    metadata,
    Column("dirac_job_id", BigInteger, primary_key=True, autoincrement=False),
    Column("job_id", BigInteger, ForeignKey("jobs.job_id"), nullable=False, unique=True),
)

WAREHOUSE_TABLES = (
    jobs,
    files,
    input_files,
    event_types,
    file_params,
    job_params,
    type_params,
    quality_params,
    replicas,
    id_counters,
    dirac_jobs,
)
