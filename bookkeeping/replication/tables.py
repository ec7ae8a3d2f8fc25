"""The static tables of catalogue subtree replication (docs/replication.md).

On a master: ``replication_subtrees`` rows with role ``master`` name the subtrees whose
changes are logged; ``replication_log`` holds those changes, one row per write (written in
the write's own transaction), numbered by ``replication_counter`` (a row lock held until
commit, so numbers are taken in commit order and a shipper never skips a late commit).
A master also keeps ``replication_slaves``: how far each slave has applied, which is what
its log may be pruned up to. On a slave: rows with role ``slave`` name the subtrees it
holds read-only, and ``replication_state`` how far it has replayed each master's log.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Double, String, Table, Text

from bookkeeping.metadata import metadata

# 700 characters: a primary key inside MariaDB's 3072-byte key limit (utf8mb4), as cat_directories.
PATH_LENGTH = 700

replication_subtrees = Table(
    "replication_subtrees",
    metadata,
    Column("path", String(PATH_LENGTH), primary_key=True),
    Column("role", String(8), nullable=False),
    # On a slave: the master's name (its database URL, password masked).
    Column("master", String(PATH_LENGTH), nullable=False, server_default=""),
    Column("registered", Double, nullable=False),  # Unix time
    # On a master: every record of this subtree numbered up to this one may be pruned
    # (``prune.py``); a slave that has applied less must bootstrap again.
    Column("pruned_id", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("role IN ('master', 'slave')", name="role"),
)

replication_counter = Table(
    "replication_counter",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

replication_log = Table(
    "replication_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("created", Double, nullable=False),  # Unix time of the write
    Column("directory", String(PATH_LENGTH), nullable=False),
    Column("op", String(16), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
)

replication_state = Table(
    "replication_state",
    metadata,
    Column("path", String(PATH_LENGTH), primary_key=True),
    Column("applied_id", BigInteger, nullable=False),
    # The master's time of the newest record applied, and when it was applied.
    Column("applied_created", Double, nullable=False),
    Column("applied_at", Double, nullable=False),
)

# On a master: each slave of a subtree and the last record it reported applied (what the
# log may be pruned up to). ``slave`` is a short stable name (a hash of the slave's masked
# database URL by default), to fit MariaDB's key length with the path.
replication_slaves = Table(
    "replication_slaves",
    metadata,
    Column("slave", String(64), primary_key=True),
    Column("path", String(PATH_LENGTH), primary_key=True),
    Column("description", String(PATH_LENGTH), nullable=False, server_default=""),
    Column("applied_id", BigInteger, nullable=False),
    Column("reported", Double, nullable=False),  # Unix time
)

REPLICATION_TABLES = (
    replication_subtrees,
    replication_counter,
    replication_log,
    replication_state,
    replication_slaves,
)
