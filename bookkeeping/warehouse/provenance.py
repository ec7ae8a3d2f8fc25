"""Ancestors and descendants: files linked through the jobs that read and wrote them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bookkeeping.chunking import chunked
from bookkeeping.interface import Relative
from bookkeeping.warehouse.fileview import FileView
from bookkeeping.warehouse.tables import files, input_files

IN_CHUNK = 500

# One generation up: the input files of the jobs that wrote the frontier.
PARENTS = (
    sa.select(input_files.c.file_id)
    .join(files, files.c.job_id == input_files.c.job_id)
    .where(files.c.file_id.in_(sa.bindparam("frontier", expanding=True)))
)
# One generation down: the files written by the jobs that read the frontier.
CHILDREN = (
    sa.select(files.c.file_id)
    .join(input_files, input_files.c.job_id == files.c.job_id)
    .where(input_files.c.file_id.in_(sa.bindparam("frontier", expanding=True)))
)


def relatives(
    connection: Connection, file_id: int, depth: int, step: sa.Select
) -> tuple[Relative, ...]:
    """Breadth-first, one query per generation; each file at its smallest depth; ordered
    by (depth, lfn)."""
    found: dict[int, int] = {}
    frontier = [file_id]
    for generation in range(1, depth + 1):
        if not frontier:
            break
        reached: set[int] = set()
        for chunk in chunked(frontier, IN_CHUNK):
            reached.update(connection.scalars(step, {"frontier": chunk}))
        frontier = sorted(reached - found.keys() - {file_id})
        found.update((item, generation) for item in frontier)
    view = FileView()
    names = sa.select(view["fileid"], view["lfn"], view["filetype"]).select_from(view.source)
    ids = sorted(found)
    result: list[Relative] = []
    for chunk in chunked(ids, IN_CHUNK):
        query = names.where(view["fileid"].in_(chunk))
        result.extend(
            Relative(found[int(fid)], int(fid), lfn, ftype)
            for fid, lfn, ftype in connection.execute(query)
        )
    return tuple(sorted(result, key=lambda r: (r.depth, r.lfn)))
