"""Catalogue system tables: users, groups, directories, attributes, ACLs, sequences and
constraints. Each directory's entries live in a table of its own, ``catd_<directory id>``,
created at run time (see ``directory_tables.py``); its attribute columns are ``a<attribute id>``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from bookkeeping.metadata import metadata

users = Table(
    "cat_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    # NULL means "no password login" (certificate-only users, anonymous).
    Column("password_hash", String(255), nullable=True),
    # X.509 subject DN for certificate logins. 700 characters keeps the unique index
    # inside MariaDB's 3072-byte key limit with utf8mb4 (4 bytes a character).
    Column("dn", String(700), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

groups = Table(
    "cat_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

group_members = Table(
    "cat_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("cat_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("cat_users.id", ondelete="CASCADE"), primary_key=True),
)

directories = Table(
    "cat_directories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Absolute normalised path; 700 characters keep the unique index within MariaDB's limit.
    Column("path", String(700), nullable=False, unique=True),
    Column("parent_id", Integer, ForeignKey("cat_directories.id"), nullable=True, index=True),
    Column("name", String(255), nullable=False),
    Column("owner", String(255), nullable=False),
    Column("group_name", String(255), nullable=True),
    # Rights as three characters "rwx" with "-" for a missing right.
    Column("permissions", String(3), nullable=False),
    Column("group_rights", String(3), nullable=False),
    # A plain directory has no per-entry permissions: its rights alone decide.
    Column("plain", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

attributes = Table(
    "cat_attributes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "directory_id",
        Integer,
        ForeignKey("cat_directories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Case-preserving user name; never used as an SQL identifier (the column is a<id>).
    Column("name", String(255), nullable=False),
    Column("type", String(32), nullable=False),
    # False until the column exists: whoever finds it false (re)runs the idempotent DDL.
    Column("ready", Boolean, nullable=False, server_default=false()),
    # Two writers adding the same attribute at once: this constraint picks the winner.
    UniqueConstraint("directory_id", "name"),
)

acls = Table(
    "cat_acls",
    metadata,
    Column(
        "directory_id",
        Integer,
        ForeignKey("cat_directories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # "alice", "group:physicists" or "system:anyuser" (everybody, anonymous included).
    Column("principal", String(255), primary_key=True),
    Column("rights", String(3), nullable=False),
)

sequences = Table(
    "cat_sequences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "directory_id",
        Integer,
        ForeignKey("cat_directories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(255), nullable=False),
    Column("increment", BigInteger, nullable=False),
    Column("next_value", BigInteger, nullable=False),
    UniqueConstraint("directory_id", "name"),
)

constraints = Table(
    "cat_constraints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "directory_id",
        Integer,
        ForeignKey("cat_directories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # not_null, unique, reference, check
    Column("definition", Text, nullable=False),  # JSON: attributes, target or condition
    UniqueConstraint("directory_id", "name"),
)

# Ordered indexes on directory tables (an engine extension, ``indexes.py``). The index is
# ``ix_catd_<directory id>_<id>``; ``definition`` is its key in attribute ids ("12d,5":
# attribute 12 descending, then attribute 5), unique per directory so that two sessions
# creating the same index at once agree on one row.
indexes = Table(
    "cat_indexes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "directory_id",
        Integer,
        ForeignKey("cat_directories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("definition", String(255), nullable=False),
    # False until the database index exists: whoever finds it false (re)runs the DDL.
    Column("ready", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("directory_id", "definition"),
)

# One row (id 1): the version of the catalogue's schema (directories, attributes, ACLs,
# ownership, constraints, users' groups). Every change of it bumps the version in the
# database, so a process validates its schema cache with one primary-key read per operation
# instead of letting it expire (``schema_version.py``).
schema_version = Table(
    "cat_schema_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)
