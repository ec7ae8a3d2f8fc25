"""The catalogue and the warehouse give the same answer to every interface call.

Hypothesis draws a production (C's generator, seeded), perturbs it the ways real reports
differ (odd parameter names and values, reports sent twice, reports that cannot be
recorded, batch boundaries), records it through both writers and then asks both readers
the same questions: every call of ``bookkeeping.interface.Bookkeeping``.

Recording is the expensive part (both writers, schema on first use), so the property runs
at two sizes: every example records a new production (a few examples; more with ``--slow``),
and one production recorded once per back-end is asked one drawn call per example
(200 examples in CI, 2,000 with ``--slow``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.generator import generate_reports
from bookkeeping.interface import (
    LISTING_ATTRIBUTES,
    Comparison,
    Condition,
    DatasetPath,
    FileRecord,
    Level,
    ListingQuery,
    Logical,
    Not,
)
from bookkeeping.writer.model import JobReport
from tests.catalogue_bookkeeping.conftest import Pair, fresh_pair
from tests.conftest import BACKENDS
from tests.fuzzing import examples

ODD_PARAMETERS = (
    ("Gauss.Version", "v45r3"),
    ("Job-Type", 'with "quotes" and \\ backslash'),
    ("Select", "a reserved word"),
    ("Q_prefixed", "looks encoded"),
    ("Name", "caf\u00e9 \u2603"),
)
ORDERS = ("lfn", "size", "events", "run", "production", "creation", "file_id")

_settings = settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _perturb(data: st.DataObject, reports: list[JobReport]) -> list[JobReport]:
    out = list(reports)
    if out and data.draw(st.booleans(), "odd job parameters"):
        index = data.draw(st.integers(0, len(out) - 1))
        extra = data.draw(st.lists(st.sampled_from(ODD_PARAMETERS), unique=True, max_size=3))
        out[index] = dataclasses.replace(
            out[index], parameters=out[index].parameters + tuple(extra)
        )
    if out and data.draw(st.booleans(), "odd file parameters"):
        index = data.draw(st.integers(0, len(out) - 1))
        report = out[index]
        files = tuple(
            dataclasses.replace(f, parameters=(("FILE_ID", "7"), ("MD5SUM", "d41d8cd9")))
            for f in report.output_files
        )
        out[index] = dataclasses.replace(report, output_files=files)
    if out and data.draw(st.booleans(), "files still open"):
        index = data.draw(st.integers(0, len(out) - 1))
        report = out[index]
        files = tuple(dataclasses.replace(f, state="open") for f in report.output_files)
        out[index] = dataclasses.replace(report, output_files=files)
    if out and data.draw(st.booleans(), "a report sent twice"):
        out.insert(len(out), out[data.draw(st.integers(0, len(out) - 1))])
    if out and data.draw(st.booleans(), "a report that cannot be recorded"):
        bad = dataclasses.replace(
            out[0], dirac_job_id=99_999_999, input_files=("/lhcb/not/recorded.dst",)
        )
        out.insert(data.draw(st.integers(0, len(out))), bad)
    return out


def _record(data: st.DataObject, pair: Pair, reports: list[JobReport]) -> None:
    start = 0
    while start < len(reports):
        size = data.draw(st.integers(1, max(1, len(reports))), "batch size")
        batch = reports[start : start + size]
        assert pair.warehouse_writer.record_batch(batch) == pair.catalogue_writer.record_batch(
            batch
        )
        start += size


def listing_values(records: Sequence[FileRecord]) -> dict[str, list]:
    """The values each listing attribute takes in ``records`` (missing ones left out)."""
    values: dict[str, list] = {}
    for record in records:
        for key, value in (
            ("production", record.production),
            ("run", record.run),
            ("eventtype", record.event_type),
            ("events", record.events),
            ("size", record.size),
            ("fileid", record.file_id),
            ("jobid", record.job_id),
            ("lfn", record.lfn),
            ("guid", record.guid),
            ("quality", record.quality),
        ):
            if value is not None:
                values.setdefault(key, []).append(value)
    return values


def _condition(values: dict[str, list]) -> st.SearchStrategy[Condition]:
    def comparison(attribute: str) -> st.SearchStrategy[Condition]:
        pool = values.get(attribute) or [0 if LISTING_ATTRIBUTES[attribute] is int else "x"]
        value = st.sampled_from(pool)
        single = st.builds(
            lambda op, v: Comparison(attribute, op, (v,)),
            st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
            value,
        )
        many = st.builds(
            lambda vs: Comparison(attribute, "in", tuple(vs)),
            st.lists(value, min_size=1, max_size=3),
        )
        return single | many

    leaf = st.sampled_from(sorted(LISTING_ATTRIBUTES)).flatmap(comparison)
    return st.recursive(
        leaf,
        lambda inner: (
            st.builds(Not, inner)
            | st.builds(
                lambda op, items: Logical(op, tuple(items)),
                st.sampled_from(["and", "or"]),
                st.lists(inner, min_size=2, max_size=3),
            )
        ),
        max_leaves=4,
    )


def _same(pair: Pair, method: str, *args: object, **kwargs: object) -> None:
    expected = getattr(pair.warehouse, method)(*args, **kwargs)
    got = getattr(pair.catalogue, method)(*args, **kwargs)
    if method.startswith("iter_"):
        expected, got = list(expected), list(got)
    assert got == expected, f"{method}{args}{kwargs}"


def _ask_everything(data: st.DataObject, pair: Pair) -> None:
    everything = pair.warehouse.files(DatasetPath())
    records = everything.files
    file_ids = [r.file_id for r in records] + [0, len(records) + 5]
    _same(pair, "files", DatasetPath())
    _same(pair, "replicas_of", data.draw(st.lists(st.sampled_from(file_ids)), "replicas of"))
    for file_id in data.draw(st.lists(st.sampled_from(file_ids), max_size=6), "file ids"):
        for method in ("file_by_id", "file_parameters", "replicas", "quality_flags"):
            _same(pair, method, file_id)
        depth = data.draw(st.integers(1, 3), "depth")
        _same(pair, "ancestors", file_id, depth)
        _same(pair, "descendants", file_id, depth)
        for name in ("GUID", "Size", "EventStat", "FILE_ID", "MD5SUM", "Unknown"):
            _same(pair, "file_parameter", file_id, name)
        _same(pair, "job", file_id)
        _same(pair, "job_parameters", file_id)
    for record in records[:3]:
        _same(pair, "file_by_lfn", record.lfn)
        _same(pair, "parameter_where", "Size", "GUID", record.guid)
        _same(pair, "parameter_where", "GUID", "Size", str(record.size))
        _same(pair, "parameter_where", "GUID", "Size", "0" + str(record.size))
        _same(pair, "parameter_where", "GUID", "FILE_ID", "7")
        _same(pair, "search", lfn=record.lfn[5:20], limit=3)
        _same(pair, "search", guid=record.guid)
        _same(pair, "search", production=record.production, run=record.run)
    lfns = data.draw(st.lists(st.sampled_from([r.lfn for r in records] + ["/lhcb/none"])))
    _same(pair, "files_metadata", lfns)
    _same(pair, "life_cycle", lfns)
    for state in ("open", "closed", "archived"):
        after = data.draw(st.sampled_from([0, *file_ids]), "after")
        _same(pair, "files_in_state", state, after=after, limit=data.draw(st.integers(0, 9)))

    path = path_drawn_from(data, pair)
    for level in Level:
        _same(pair, "level_values", level, path)
    order = data.draw(st.sampled_from(ORDERS), "order")
    descending = data.draw(st.booleans(), "descending")
    offset = data.draw(st.integers(0, 5), "offset")
    limit = data.draw(st.none() | st.integers(0, 7), "limit")
    _same(pair, "files", path, offset=offset, limit=limit, order_by=order, descending=descending)
    _same(pair, "iter_files", path, order_by=order, descending=descending)

    file_types = sorted({r.file_type for r in records}) or ["DST"]
    query = ListingQuery(
        data.draw(st.sampled_from(file_types), "file type"),
        data.draw(st.none() | _condition(listing_values(records)), "where"),
        data.draw(st.booleans(), "disk only"),
    )
    _same(pair, "count_listing", query)
    _same(pair, "iter_listing", query)


def path_drawn_from(data: st.DataObject, pair: Pair) -> DatasetPath:
    """A path whose levels take values the data has (or, now and then, none)."""
    path = DatasetPath()
    fields = {
        Level.CONFIG_NAME: "config_name",
        Level.CONFIG_VERSION: "config_version",
        Level.CONDITIONS: "conditions",
        Level.PROCESSING_PASS: "processing_pass",
        Level.EVENT_TYPE: "event_type",
        Level.FILE_TYPE: "file_type",
    }
    for level, field in fields.items():
        if not data.draw(st.booleans(), f"fix {field}"):
            continue
        choices = [v.value for v in pair.warehouse.level_values(level, path)]
        if choices:
            path = dataclasses.replace(path, **{field: data.draw(st.sampled_from(choices))})
    if data.draw(st.booleans(), "production range"):
        first = data.draw(st.integers(10_000, 30_100))
        path = dataclasses.replace(path, production_range=(first, first + 50))
    if data.draw(st.integers(0, 3), "file filters") == 0:
        path = _with_file_filters(data, pair, path)
    return path


def _with_file_filters(data: st.DataObject, pair: Pair, path: DatasetPath) -> DatasetPath:
    """Dataset filters whose bounds are values the files have (so they cut somewhere)."""
    records = list(pair.warehouse.files(DatasetPath()).files)
    if not records:
        return path
    changes: dict[str, object] = {}

    def bounds(values: list) -> tuple:
        low = data.draw(st.none() | st.sampled_from(values))
        high = data.draw(st.none() | st.sampled_from(values))
        if low is not None and high is not None and low > high:
            low, high = high, low
        return (low, high)

    runs = sorted({r.run for r in records if r.run is not None})
    if runs and data.draw(st.booleans(), "run range"):
        changes["run_range"] = bounds(runs)
    if data.draw(st.booleans(), "created range"):
        changes["created_range"] = bounds(sorted({r.creation_time for r in records}))
    if data.draw(st.booleans(), "events range"):
        changes["events_range"] = bounds(sorted({r.events for r in records}))
    if data.draw(st.booleans(), "size range"):
        changes["size_range"] = bounds(sorted({r.size for r in records}))
    flags = sorted({r.quality for r in records if r.quality is not None})
    if flags and data.draw(st.booleans(), "quality"):
        changes["quality"] = data.draw(st.sampled_from(flags))
    return dataclasses.replace(path, **changes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_catalogue_and_warehouse_answer_every_call_identically(backend: str) -> None:
    @settings(_settings, max_examples=examples(3, 30))
    @given(data=st.data(), files=st.integers(1, 16), seed=st.integers(0, 2**16))
    def check(data: st.DataObject, files: int, seed: int) -> None:
        reports = _perturb(data, list(generate_reports(files, seed)))
        with fresh_pair(backend) as pair:
            _record(data, pair, reports)
            _ask_everything(data, pair)

    check()


@pytest.fixture(scope="module", params=BACKENDS)
def recorded(request: pytest.FixtureRequest) -> Iterator[Pair]:
    """One production (odd parameters, a duplicate, a report that cannot be recorded),
    recorded through both writers in uneven batches, once per back-end."""
    reports = list(generate_reports(24, 2026))
    reports[3] = dataclasses.replace(reports[3], parameters=reports[3].parameters + ODD_PARAMETERS)
    reports.insert(9, reports[2])
    reports.insert(
        5,
        dataclasses.replace(
            reports[0], dirac_job_id=99_999_999, input_files=("/lhcb/not/recorded.dst",)
        ),
    )
    with fresh_pair(request.param) as pair:
        for start in range(0, len(reports), 7):
            batch = reports[start : start + 7]
            assert pair.warehouse_writer.record_batch(batch) == pair.catalogue_writer.record_batch(
                batch
            )
        yield pair


_BY_FILE_ID = (
    *("file_by_id", "file_parameters", "replicas", "quality_flags", "job", "job_parameters"),
)
_CALLS = (
    *_BY_FILE_ID,
    *("ancestors", "descendants", "file_parameter", "replicas_of", "file_by_lfn"),
    *("parameter_where", "search", "files_metadata", "level_values", "files", "iter_files"),
    *("count_listing", "iter_listing"),
)


def _one_call(data: st.DataObject, pair: Pair) -> tuple[str, tuple[object, ...], dict]:
    """One interface call with drawn arguments (method name, args, kwargs)."""
    records = pair.warehouse.files(DatasetPath()).files
    file_ids = [r.file_id for r in records] + [0, len(records) + 5]
    file_id = data.draw(st.sampled_from(file_ids), "file id")
    record = data.draw(st.sampled_from(records), "record")
    method = data.draw(st.sampled_from(_CALLS), "method")
    if method in _BY_FILE_ID:
        return method, (file_id,), {}
    if method in {"ancestors", "descendants"}:
        return method, (file_id, data.draw(st.integers(1, 3), "depth")), {}
    if method == "file_parameter":
        name = data.draw(st.sampled_from(["GUID", "Size", "EventStat", "FILE_ID", "Unknown"]))
        return method, (file_id, name), {}
    if method == "replicas_of":
        return method, (data.draw(st.lists(st.sampled_from(file_ids)), "file ids"),), {}
    if method == "file_by_lfn":
        return method, (data.draw(st.sampled_from([record.lfn, "/lhcb/none"])),), {}
    if method == "parameter_where":
        return (
            method,
            data.draw(
                st.sampled_from(
                    [
                        ("Size", "GUID", record.guid),
                        ("GUID", "Size", str(record.size)),
                        ("GUID", "Size", "0" + str(record.size)),
                        ("GUID", "FILE_ID", "7"),
                    ]
                )
            ),
            {},
        )
    if method == "search":
        return (
            method,
            (),
            data.draw(
                st.sampled_from(
                    [
                        {"lfn": record.lfn[5:20], "limit": 3},
                        {"guid": record.guid},
                        {"production": record.production, "run": record.run},
                    ]
                )
            ),
        )
    if method == "files_metadata":
        lfns = st.sampled_from([r.lfn for r in records] + ["/lhcb/none"])
        return method, (data.draw(st.lists(lfns), "lfns"),), {}
    path = path_drawn_from(data, pair)
    if method == "level_values":
        return method, (data.draw(st.sampled_from(list(Level))), path), {}
    order = {
        "order_by": data.draw(st.sampled_from(ORDERS), "order"),
        "descending": data.draw(st.booleans(), "descending"),
    }
    if method == "files":
        offset = data.draw(st.integers(0, 5), "offset")
        limit = data.draw(st.none() | st.integers(0, 7), "limit")
        return method, (path,), {"offset": offset, "limit": limit, **order}
    if method == "iter_files":
        return method, (path,), order
    file_types = sorted({r.file_type for r in records})
    query = ListingQuery(
        data.draw(st.sampled_from(file_types), "file type"),
        data.draw(st.none() | _condition(listing_values(records)), "where"),
        data.draw(st.booleans(), "disk only"),
    )
    return method, (query,), {}


def test_one_production_answers_every_drawn_call_identically(recorded: Pair) -> None:
    @settings(
        max_examples=examples(200, 2000),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        method, args, kwargs = _one_call(data, recorded)
        _same(recorded, method, *args, **kwargs)

    check()
