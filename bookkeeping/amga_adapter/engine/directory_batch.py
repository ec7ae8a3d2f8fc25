"""Loading many directories into the schema cache at once.

Loading one directory costs four statements (its row, attributes, ACL, constraints). A
statement over hundreds of directories (``selectattr_union``) would pay that per directory
whenever the cache has expired; this loads all the stale ones with four statements in all,
whatever their number (in chunks of ``IN_CHUNK`` paths).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import (
    Attribute,
    ConstraintInfo,
    DirectoryCache,
    DirectoryInfo,
)
from bookkeeping.amga_adapter.engine.types import parse_type
from bookkeeping.chunking import chunked

IN_CHUNK = 500


def load_directories(connection: sa.Connection, paths: Sequence[str]) -> list[DirectoryInfo]:
    """The directories of ``paths`` that exist (missing ones are left out: resolving them
    one by one later raises the usual NoSuchDirectory)."""
    found = []
    for chunk in chunked(paths, IN_CHUNK):
        found.extend(_load_chunk(connection, chunk))
    return found


def _load_chunk(connection: sa.Connection, paths: list[str]) -> list[DirectoryInfo]:
    rows = connection.execute(
        sa.select(st.directories).where(st.directories.c.path.in_(paths))
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    attributes: dict[int, dict[str, Attribute]] = defaultdict(dict)
    for directory_id, id_, name, type_ in connection.execute(
        sa.select(
            st.attributes.c.directory_id,
            st.attributes.c.id,
            st.attributes.c.name,
            st.attributes.c.type,
        )
        .where(st.attributes.c.directory_id.in_(ids), st.attributes.c.ready.is_(True))
        .order_by(st.attributes.c.directory_id, st.attributes.c.id)
    ):
        attributes[directory_id][name] = Attribute(id_, name, parse_type(type_))
    acls: dict[int, dict[str, str]] = defaultdict(dict)
    for directory_id, principal, rights in connection.execute(
        sa.select(st.acls.c.directory_id, st.acls.c.principal, st.acls.c.rights).where(
            st.acls.c.directory_id.in_(ids)
        )
    ):
        acls[directory_id][principal] = rights
    constraints: dict[int, list[ConstraintInfo]] = defaultdict(list)
    for c in connection.execute(
        sa.select(st.constraints)
        .where(st.constraints.c.directory_id.in_(ids))
        .order_by(st.constraints.c.id)
    ):
        constraints[c.directory_id].append(
            ConstraintInfo(c.id, c.name, c.kind, json.loads(c.definition))
        )
    return [
        DirectoryInfo(
            id=row.id,
            path=row.path,
            parent_id=row.parent_id,
            owner=row.owner,
            group_name=row.group_name,
            permissions=row.permissions,
            group_rights=row.group_rights,
            plain=bool(row.plain),
            acl=acls[row.id],
            attributes=attributes[row.id],
            constraints=constraints[row.id],
        )
        for row in rows
    ]


def warm(cache: DirectoryCache, connection: sa.Connection, paths: Iterable[str]) -> None:
    """Put every path of ``paths`` the cache does not hold fresh into it (four statements
    when any is stale, none otherwise)."""
    stale = sorted({path for path in paths if cache.peek(path) is None})
    if not stale:
        return
    for info in load_directories(connection, stale):
        cache.put(info)
