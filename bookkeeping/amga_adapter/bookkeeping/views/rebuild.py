"""Full rebuild and consistency check of the views, from the bookkeeping directories.

``derive_all`` computes what the views must hold; ``rebuild`` replaces the views with it
(writers must be stopped: a rebuild recreates directories under them); ``check`` compares
the incrementally kept views with it and lists every difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows
from bookkeeping.amga_adapter.bookkeeping.records import select_rows
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.builder import matching_entries
from bookkeeping.amga_adapter.bookkeeping.views.derive import (
    FileFacts,
    combination,
    copy_fold,
    program_of,
    shard_values,
    summary,
)
from bookkeeping.amga_adapter.bookkeeping.views.maintain import (
    create_indexes,
    ensure_indexes,
    ensure_view_layout,
    missing_indexes,
)
from bookkeeping.amga_adapter.engine.errors import NoSuchDirectory
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.interface import DatasetPath

Progress = Callable[[int, int], None]  # (combinations done, combinations in all)


@dataclass
class Expected:
    """One combination as a rebuild makes it."""

    combination: V.Combination
    description: str
    summary: V.Summary = field(default_factory=V.Summary)
    files: dict[int, dict[str, object]] = field(default_factory=dict)


def derive_all(session: CatalogueSession) -> dict[str, Expected]:
    """Every non-empty combination with its files, from the bookkeeping directories."""
    BL.ensure_layout(session)
    descriptions = {
        int(t): d
        for t, d in rows(session, [f"{BL.EVENT_TYPES}:TYPE_ID", f"{BL.EVENT_TYPES}:DESCRIPTION"])
    }
    expected: dict[str, Expected] = {}
    for facts in _facts(session):
        combo = combination(facts)
        item = expected.get(combo.key)
        if item is None:
            item = expected[combo.key] = Expected(combo, descriptions.get(facts.event_type, ""))
        item.summary = item.summary.plus(summary(facts))
        item.files[facts.file_id] = shard_values(facts)
    return expected


def _facts(session: CatalogueSession) -> Iterator[FileFacts]:
    jobs = _job_facts(session)
    inputs = _primary_input_types(session)
    sites = _sites(session)
    for row in select_rows(session, ""):
        r = row.record
        dirac, program = jobs[r.job_id]
        yield FileFacts(
            file_id=r.file_id,
            lfn=r.lfn,
            guid=r.guid,
            size=r.size,
            events=r.events,
            checksum=r.checksum,
            file_type=r.file_type,
            event_type=r.event_type,
            job_id=r.job_id,
            production=r.production,
            run=r.run,
            creation_time=r.creation_time,
            visible=r.visible,
            quality=r.quality,
            config=row.config,
            config_version=row.config_version,
            conditions=row.conditions,
            processing_pass=row.processing_pass,
            dirac_job_id=dirac,
            program=program,
            input_type=inputs.get(r.job_id, ""),
            sites=sites.get(r.file_id, ((), (0, "")))[0],
            copies=sites.get(r.file_id, ((), (0, "")))[1],
        )


def _job_facts(session: CatalogueSession) -> dict[int, tuple[int, str]]:
    """job id -> (DIRAC job id, program)."""
    d = BL.JOB_PARAMS
    present = dict(session.listattr(d))
    names = ["ProgramName", "ProgramVersion"]
    extra = [BL.attribute_name(d, n) for n in names if BL.attribute_name(d, n) in present]
    items = [f"{d}:JOB_ID", f"{d}:DIRAC_JobID", *(f"{d}:{a}" for a in extra)]
    result = {}
    for values in rows(session, items):
        parameters = {
            BL.parameter_name(a): v for a, v in zip(extra, values[2:], strict=True) if v is not None
        }
        result[int(values[0])] = (int(values[1]), program_of(parameters))
    return result


def _primary_input_types(session: CatalogueSession) -> dict[int, str]:
    """job id -> file type of its input with the smallest LFN."""
    found: dict[int, tuple[str, str]] = {}
    items = [f"{BL.INPUT_FILES}:JOB_ID", f"{BL.FILES}:LOGNAME", f"{BL.TYPE_PARAMS}:Name"]
    joins = (
        f"{BL.INPUT_FILES}:FILE_ID = {BL.FILES}:FILE_ID"
        f" and {BL.FILES}:TYPE_ID = {BL.TYPE_PARAMS}:TYPE_ID"
    )
    for job_id, lfn, file_type in rows(session, items, joins):
        current = found.get(int(job_id))
        if current is None or lfn < current[0]:
            found[int(job_id)] = (lfn, file_type)
    return {job_id: file_type for job_id, (_, file_type) in found.items()}


def _sites(
    session: CatalogueSession,
) -> dict[int, tuple[tuple[str, ...], tuple[int | None, str | None]]]:
    """file id -> (sites of its copies in the report's order (entry names end in
    _<index>), the fold of its copies (``derive.copy_fold``))."""
    copies: dict[int, list[tuple[int, str, dict[str, object]]]] = defaultdict(list)
    listed = session.dir(BL.REPLICAS)
    names = ["STORAGECLASS", "AREA", "STATUS", "REPLICA"]
    for path, kind in list(listed):
        if kind != "collection":
            continue
        site = path.rsplit("/", 1)[-1]
        present = {name for name, _ in session.listattr(path)}
        # A site directory still being given its attributes has no copy the share counts.
        read = names if all(name in present for name in names) else []
        items = [f"{path}:FILE", f"{path}:FILE_ID", *(f"{path}:{n}" for n in read)]
        for name, file_id, *values in rows(session, items):
            index = int(str(name).rsplit("_", 1)[1])
            copies[int(file_id)].append((index, site, dict(zip(read, values, strict=True))))
    result = {}
    for file_id, found in copies.items():
        found.sort(key=lambda item: item[0])
        fold = copy_fold((site, values) for _, site, values in found)
        result[file_id] = (tuple(site for _, site, _ in found), fold)
    return result


# --- rebuild --------------------------------------------------------------------------


def _view_directories(session: CatalogueSession) -> list[str]:
    listed = list(session.dir("/"))
    return [
        path
        for path, kind in listed
        if kind == "collection"
        and (path.startswith(V.SHARD_PREFIX) or path in {V.ROOTTREE, V.DELTAS, V.SHARD_CLAIMS})
    ]


def rebuild(session: CatalogueSession, progress: Progress | None = None) -> int:
    """Replace the views with what the bookkeeping directories say; returns the number of
    combinations. Stop the writers first."""
    expected = derive_all(session)
    for path in _view_directories(session):
        try:
            session.rmdir(path, recursive=True)
        except NoSuchDirectory:
            pass
    ensure_view_layout(session)
    ordered = sorted(expected.items())
    for number, (key, item) in enumerate(ordered, start=1):
        shard = V.shard_path(number)
        BL.ensure_directory(session, shard, V.SHARD_ATTRIBUTES)
        session.begin()
        try:
            session.addentry(f"{V.SHARD_CLAIMS}/{number}", {"NUMBER": number, "COMBINATION": key})
            session.addentries(shard, ((str(i), v) for i, v in sorted(item.files.items())))
            session.addentry(
                f"{V.ROOTTREE}/{key}",
                {
                    **item.combination.attributes(),
                    "EVENTDESCRIPTION": item.description,
                    **item.summary.attributes(),
                    "SHARD": shard,
                },
            )
        except BaseException:
            session.abort()
            raise
        session.commit()
        create_indexes(session, shard)  # after the rows: one sort, not an insert per row
        if progress is not None:
            progress(number, len(ordered))
    return len(ordered)


def index_shards(session: CatalogueSession, progress: Progress | None = None) -> int:
    """Give every shard the indexes it lacks (databases written before shards had them);
    returns how many were created. Writers may run meanwhile: each index is one DDL
    statement, which on PostgreSQL holds the shard's writers back while it is built."""
    ensure_view_layout(session)
    shards = sorted({str(shard) for (shard,) in rows(session, [f"{V.ROOTTREE}:SHARD"])})
    created = 0
    for number, shard in enumerate(shards, start=1):
        created += ensure_indexes(session, shard)
        if progress is not None:
            progress(number, len(shards))
    return created


# --- check ----------------------------------------------------------------------------


def check(session: CatalogueSession) -> list[str]:
    """The differences between the views and a rebuild; empty when they agree."""
    expected = derive_all(session)
    ensure_view_layout(session)
    differences: list[str] = []
    entries = {entry.key: entry for entry in matching_entries(session, DatasetPath())}
    shards: dict[str, str] = {}
    for key in sorted(expected.keys() - entries.keys()):
        differences.append(f"combination {key} ({_describe(expected[key].combination)}) is missing")
    for key in sorted(entries.keys() - expected.keys()):
        differences.append(f"combination {key} has files the bookkeeping does not know")
    for key in sorted(expected.keys() & entries.keys()):
        want, have = expected[key], entries[key]
        if have.shard in shards:
            differences.append(f"{key} and {shards[have.shard]} share the shard {have.shard}")
        shards[have.shard] = key
        if not _agrees(have.summary, want.summary):
            differences.append(f"{key}: summary {have.summary} should be {want.summary}")
        if have.combination != want.combination:
            differences.append(f"{key}: attributes {have.combination} should be {want.combination}")
        differences.extend(_shard_differences(session, key, have.shard, want.files))
        differences.extend(
            f"{have.shard} ({key}): index on {', '.join(attributes)} is missing"
            " (bk views index adds it)"
            for attributes in missing_indexes(session, have.shard)
        )
    return differences


def _agrees(have: V.Summary, want: V.Summary) -> bool:
    """Counts exactly; the production range may be wider than the files' (a file that left
    the combination cannot narrow it: views/changes.py), never narrower."""
    if (have.files, have.events, have.bytes) != (want.files, want.events, want.bytes):
        return False
    low, high = have.min_production, have.max_production
    assert want.min_production is not None and want.max_production is not None
    return (
        low is not None
        and high is not None
        and low <= want.min_production
        and high >= want.max_production
    )


def _shard_differences(
    session: CatalogueSession, key: str, shard: str, want: dict[int, dict[str, object]]
) -> list[str]:
    # A shard made before the copy folds lacks them until a writer adds them; rows written
    # before stay NULL ("not folded": the share reads their copies) until folded.
    present = {name for name, _ in session.listattr(shard)}
    names = [n for n in V.SHARD_ATTRIBUTES if n in present or n not in V.COPY_FOLD_ATTRIBUTES]
    have = {
        int(values[0]): _unfolded(dict(zip(names, values, strict=True)), want.get(int(values[0])))
        for values in rows(session, [f"{shard}:{n}" for n in names])
    }
    found = []
    for file_id in sorted(want.keys() - have.keys()):
        found.append(f"{shard} ({key}): file {file_id} is missing")
    for file_id in sorted(have.keys() - want.keys()):
        found.append(f"{shard} ({key}): file {file_id} does not belong here")
    for file_id in sorted(want.keys() & have.keys()):
        if have[file_id] != want[file_id]:
            wrong = sorted(n for n in names if have[file_id][n] != want[file_id][n])
            found.append(f"{shard} ({key}): file {file_id} differs in {', '.join(wrong)}")
    return found


def _unfolded(row: dict[str, object], wanted: dict[str, object] | None) -> dict[str, object]:
    """``row`` with the wanted copy fold where it has none yet (not folded is no error)."""
    if wanted is None or any(row.get(name) is not None for name in V.COPY_FOLD_ATTRIBUTES):
        return row
    return {**row, **{name: wanted[name] for name in V.COPY_FOLD_ATTRIBUTES}}


def _describe(combo: V.Combination) -> str:
    return (
        "/".join(
            str(v)
            for v in (combo.config, combo.config_version, combo.conditions, combo.processing_pass)
        )
        + f"/{combo.event_type}/{combo.file_type} at {combo.location or '-'}"
    )
