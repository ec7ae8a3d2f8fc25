"""Keeping the views up to date in real time, inside the production writer's transaction.

Before the transaction (schema changes are DDL): every combination the batch will touch
gets its roottree entry and shard directory (``ensure_combination``; safe when writers
race). Inside it: the files go to their shards and the writer's own delta rows take the
new totals. A writer only ever writes its own delta rows, so parallel writers never wait
for one another on a summary row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.batch import Batch, WrittenFile
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows, scalar
from bookkeeping.amga_adapter.bookkeeping.views import changes
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.changes import FileState
from bookkeeping.amga_adapter.bookkeeping.views.derive import (
    FileFacts,
    combination,
    copy_fold,
    program_of,
    shard_values,
    summary,
)
from bookkeeping.amga_adapter.engine.errors import EntryExists, NoSuchDirectory
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.interface import DATA_QUALITY_GROUP
from bookkeeping.writer.model import JobReport, OutputFileSpec

CLAIM_ATTEMPTS = 50


def ensure_view_layout(session: CatalogueSession) -> None:
    BL.ensure_directory(session, V.ROOTTREE, V.ROOTTREE_ATTRIBUTES)
    BL.ensure_directory(session, V.DELTAS, V.DELTA_ATTRIBUTES)
    BL.ensure_directory(session, V.SHARD_CLAIMS, {"NUMBER": "bigint", **V.CLAIM_ATTRIBUTES})


def ensure_copy_folds(session: CatalogueSession) -> None:
    """Give every shard the copy-fold attributes (``V.COPY_FOLD_ATTRIBUTES``) it lacks (a
    shard made before them): this writer's rows then always carry them. Rows written
    before stay NULL (the share reads their copies) until ``bk views fill-copies`` or a
    rebuild folds them. Outside a transaction; in shard order, as every writer does."""
    fold = {name: V.SHARD_ATTRIBUTES[name] for name in V.COPY_FOLD_ATTRIBUTES}
    shards = sorted(str(shard) for (shard,) in rows(session, [f"{V.ROOTTREE}:SHARD"]) if shard)
    for shard in shards:
        try:
            session.ensure_attributes(shard, fold)
        except NoSuchDirectory:
            continue  # a loser's shard, removed since (ensure_combination)


def ensure_combination(session: CatalogueSession, combo: V.Combination, description: str) -> str:
    """The shard of ``combo``, creating its roottree entry and shard if need be. Outside a
    transaction. Racing writers: the roottree entry name (the combination's key) decides;
    the loser removes the shard it made and uses the winner's."""
    found = _shard_of(session, combo.key)
    if found is not None:
        return found
    number = _claim_shard_number(session, combo.key)
    path = V.shard_path(number)
    BL.ensure_directory(session, path, V.SHARD_ATTRIBUTES)
    create_indexes(session, path)  # on the empty shard: nothing to sort yet
    values = {
        **combo.attributes(),
        "EVENTDESCRIPTION": description,
        **V.Summary().attributes(),
        "FILES": 0,
        "NBEVENTS": 0,
        "BYTES": 0,
        "SHARD": path,
    }
    try:
        session.addentry(f"{V.ROOTTREE}/{combo.key}", values)
    except EntryExists:
        session.rmdir(path)
        session.rm(f"{V.SHARD_CLAIMS}/{number}")
        winner = _shard_of(session, combo.key)
        assert winner is not None
        return winner
    return path


def create_indexes(session: CatalogueSession, shard: str) -> None:
    """The indexes of ``V.SHARD_INDEXES`` on a new shard (DDL: outside a transaction)."""
    session.create_indexes(shard, V.SHARD_INDEXES)


def missing_indexes(session: CatalogueSession, shard: str) -> list[tuple[str, ...]]:
    """The indexes of ``V.SHARD_INDEXES`` that ``shard`` lacks."""
    present = {
        index.attributes for index in session.list_indexes(shard) if not any(index.descending)
    }
    return [attributes for attributes in V.SHARD_INDEXES if attributes not in present]


def ensure_indexes(session: CatalogueSession, shard: str) -> int:
    """Give ``shard`` the indexes it lacks (DDL: outside a transaction); returns how many
    were created."""
    missing = missing_indexes(session, shard)
    session.create_indexes(shard, missing)
    return len(missing)


def _shard_of(session: CatalogueSession, key: str) -> str | None:
    found = rows(session, [f"{V.ROOTTREE}:SHARD"], f"{V.ROOTTREE}:FILE = {BL.literal(key)}")
    return str(found[0][0]) if found else None


def _claim_shard_number(session: CatalogueSession, key: str) -> int:
    for _ in range(CLAIM_ATTEMPTS):
        number = int(scalar(session, f"max({V.SHARD_CLAIMS}:NUMBER)") or 0) + 1
        try:
            session.addentry(f"{V.SHARD_CLAIMS}/{number}", {"NUMBER": number, "COMBINATION": key})
        except EntryExists:
            continue  # another writer claimed it first
        return number
    raise RuntimeError("could not claim a shard number: too many concurrent writers")


class ViewMaintainer:
    """The views' part of a ``CatalogueWriter`` (one per writer; not thread-safe)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or uuid.uuid4().hex[:16]
        self._shards: dict[str, str] = {}  # combination key -> shard path
        self._descriptions: dict[int, str] = {}
        self._input_types: dict[str, str] = {}  # LFN -> file type, the batch's primary inputs
        self._type_names: dict[int, str] = {}  # file type id -> name
        self._keys: dict[V.Combination, str] = {}
        self._mine: dict[str, V.Summary] = {}  # this writer's delta rows, as committed
        self._staged: dict[str, V.Summary] = {}
        self._layout_ready = False

    # --- before the transaction ---------------------------------------------------------

    def ensure_layout(self, session: CatalogueSession) -> None:
        if not self._layout_ready:
            ensure_view_layout(session)
            ensure_copy_folds(session)
            self._layout_ready = True

    def ensure_shard(
        self, session: CatalogueSession, combo: V.Combination, description: str
    ) -> str:
        """The shard of ``combo``, created with its roottree entry if need be (DDL)."""
        key = self._key(combo)
        if key not in self._shards:
            self._shards[key] = ensure_combination(session, combo, description)
        return self._shards[key]

    def prepare(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        self.ensure_layout(session)
        self._learn_input_types(session, reports)
        self._learn_descriptions(session, reports)
        for report in reports:
            for output in report.output_files:
                combo = combination(self._facts(report, output, 0, 0))
                self.ensure_shard(session, combo, self._descriptions.get(output.event_type, ""))

    def _key(self, combo: V.Combination) -> str:
        # The key is a hash of the combination's JSON: worth computing once per
        # combination, not once per file (combinations are few).
        key = self._keys.get(combo)
        if key is None:
            key = self._keys[combo] = combo.key
        return key

    def _learn_input_types(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        """The file types of the batch's primary inputs (kept for this batch only: a
        writer running for months must not remember every file)."""
        in_batch = {f.lfn: f.file_type for r in reports for f in r.output_files}
        wanted = sorted({min(r.input_files) for r in reports if r.input_files} - in_batch.keys())
        found = session.select_in(BL.FILES, "LOGNAME", wanted, ["TYPE_ID"])
        if any(int(type_id) not in self._type_names for _, type_id in found):
            self._type_names.update(
                (int(type_id), str(name))
                for type_id, name in rows(
                    session, [f"{BL.TYPE_PARAMS}:TYPE_ID", f"{BL.TYPE_PARAMS}:Name"]
                )
            )
        self._input_types = {
            str(lfn): self._type_names.get(int(type_id), "") for lfn, type_id in found
        }
        self._input_types.update(in_batch)

    def _learn_descriptions(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        wanted = sorted(
            {f.event_type for r in reports for f in r.output_files} - self._descriptions.keys()
        )
        known = dict(session.select_in(BL.EVENT_TYPES, "TYPE_ID", wanted, ["DESCRIPTION"]))
        for report in reports:  # the first declaration wins, as in the bookkeeping
            for spec in report.event_types:
                known.setdefault(spec.event_type, spec.description)
        self._descriptions.update((int(k), str(v)) for k, v in known.items())

    def _facts(
        self, report: JobReport, output: OutputFileSpec, file_id: int, job_id: int
    ) -> FileFacts:
        quality = {q.group: q.flag for q in output.quality}.get(DATA_QUALITY_GROUP)
        primary = min(report.input_files) if report.input_files else None
        return FileFacts(
            file_id=file_id,
            lfn=output.lfn,
            guid=output.guid,
            size=output.size,
            events=output.events,
            checksum=output.checksum,
            file_type=output.file_type,
            event_type=output.event_type,
            job_id=job_id,
            production=report.production,
            run=report.run,
            creation_time=output.creation_time,
            visible=output.visible,
            quality=quality,
            config=report.config_name,
            config_version=report.config_version,
            conditions=report.conditions,
            processing_pass=report.processing_pass,
            dirac_job_id=report.dirac_job_id,
            program=program_of(dict(report.parameters)),
            input_type="" if primary is None else self._input_types.get(primary, ""),
            sites=tuple(copy.site for copy in output.replicas),
            copies=copy_fold((c.site, BL.replica_values(file_id, c)) for c in output.replicas),
        )

    def prepare_changes(self, session: CatalogueSession, states: Mapping[int, FileState]) -> None:
        """Before a change of files' visibility or copies (``views.changes``)."""
        changes.prepare(self, session, states)

    # --- inside the transaction ---------------------------------------------------------

    def shard_of(self, session: CatalogueSession, combo: V.Combination) -> str | None:
        """The shard of ``combo`` if the views have it."""
        key = self._key(combo)
        if key not in self._shards:
            found = _shard_of(session, key)
            if found is None:
                return None
            self._shards[key] = found
        return self._shards[key]

    def write_changes(self, session: CatalogueSession, states: Mapping[int, FileState]) -> None:
        """Inside the transaction of a change of files' visibility or copies."""
        changes.write(self, session, states)

    def write(self, session: CatalogueSession, batch: Batch) -> None:
        by_shard: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
        added: dict[str, V.Summary] = defaultdict(V.Summary)
        for written in batch.files:
            facts = self._facts_of(written)
            key = self._key(combination(facts))
            shard = self._shards.get(key)
            if shard is None:
                # Unforeseen by prepare (e.g. an input recorded meanwhile): a schema change
                # cannot happen here on every back-end, so the batch retries after prepare.
                raise NoSuchDirectory(f"no shard prepared for combination {key}")
            by_shard[shard].append((str(facts.file_id), shard_values(facts)))
            added[key] = added[key].plus(summary(facts))
        for shard, entries in by_shard.items():
            session.addentries(shard, entries)
        self.stage(session, added)

    def stage(self, session: CatalogueSession, added: dict[str, V.Summary]) -> None:
        """Inside the transaction: add ``added`` (combination key -> files, events, bytes,
        productions; negative for files that left) to this writer's own delta rows."""
        self._staged = {}
        new_rows = []
        for key, delta in added.items():
            total = self._mine.get(key, V.Summary()).plus(delta)
            self._staged[key] = total
            name = f"{key}_{self.token}"
            if key in self._mine:
                session.setattr(f"{V.DELTAS}/{name}", total.attributes())
            else:
                new_rows.append(
                    (name, {"COMBINATION": key, "WRITER": self.token, **total.attributes()})
                )
        if new_rows:
            session.addentries(V.DELTAS, new_rows)

    def _facts_of(self, written: WrittenFile) -> FileFacts:
        return self._facts(written.report, written.output, written.file_id, written.job_id)

    def committed(self) -> None:
        self._mine.update(self._staged)
        self._staged = {}

    def aborted(self) -> None:
        self._staged = {}

    def forget(self) -> None:
        """After a rebuild: the roottree was recreated, this writer's rows are gone."""
        self._shards.clear()
        self._mine.clear()
        self._layout_ready = False
