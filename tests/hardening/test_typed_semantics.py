"""One meaning on every back-end for typed comparisons: dates, timestamps and times, and
integers at the 64-bit boundaries. On random entries and random conditions, the catalogue
(on each back-end) finds exactly the entries the pure-Python evaluator says; a comparison
the evaluator refuses (a time of day with a date) is a QueryTypeError everywhere.

A date compared with a timestamp is that day at midnight (SQL's rule, docs/query-language.md).
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bookkeeping.amga_adapter.query.errors import QueryTypeError
from bookkeeping.amga_adapter.query.evaluate import Directory, evaluate_find
from bookkeeping.engines import create_engine
from bookkeeping.errors import ValueOutOfRange
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS
from tests.fuzzing import fuzz_settings
from tests.protocol.conftest import _new_catalogue

DIRECTORY = "/typed"
TYPES = {"d": ("date", dt.date), "t": ("timestamp", dt.datetime), "h": ("time", dt.time),
         "n": ("bigint", int)}  # fmt: skip
BIG = 2**63 - 1
DAYS = [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(1970, 1, 1), dt.date(9999, 12, 31)]
TIMES = [dt.time(0, 0), dt.time(0, 0, 1), dt.time(23, 59, 59), dt.time(12, 0)]
_SOME = {
    "d": st.sampled_from(DAYS),
    "t": st.builds(dt.datetime.combine, st.sampled_from(DAYS[:3]), st.sampled_from(TIMES[:2])),
    "h": st.sampled_from(TIMES),
    "n": st.sampled_from([0, 1, -1, BIG, -BIG - 1, BIG - 1, 2**62]),
}
# NULL in about one value of four
VALUES: dict[str, st.SearchStrategy[Any]] = {
    name: st.one_of(st.none(), *[some] * 3) for name, some in _SOME.items()
}
LITERALS = {
    "d": ["'2024-01-02'", "'1970-01-01'", "'9999-12-31'"],
    "t": ["'2024-01-02 00:00:00'", "'2024-01-01 23:59:59'", "'2024-01-02T12:00:00'"],
    "h": ["'00:00:00'", "'23:59:59'", "'12:00'"],
    "n": [str(BIG), str(-BIG), "0", "-1", str(2**62)],
}
OPERATORS = ["=", "!=", "<", "<=", ">", ">="]


@pytest.fixture(scope="module", params=BACKENDS)
def session(request: pytest.FixtureRequest) -> Iterator[Any]:
    with scratch_database(request.param, server_url(request.param)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        try:
            catalogue = _new_catalogue(engine)
            own = catalogue.session("root")
            own.createdir(DIRECTORY)
            for name, (type_name, _) in TYPES.items():
                own.addattr(DIRECTORY, name, type_name)
            own.cd(DIRECTORY)
            yield own
        finally:
            engine.dispose()


_FAMILY = {"d": "day", "t": "day", "h": "time of day", "n": "number"}  # what compares


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, bool]:
    """A condition, and whether it compares kinds no back-end compares (then refused)."""
    left = draw(st.sampled_from(sorted(TYPES)))
    operator = draw(st.sampled_from(OPERATORS))
    refused = False
    if draw(st.booleans()):
        # Half of these a day against a timestamp: where back-ends used to disagree.
        partner = {"d": "t", "t": "d"}.get(left, left)
        right = draw(st.sampled_from([partner, partner, *sorted(TYPES)]))
        refused = _FAMILY[left] != _FAMILY[right]
    else:
        right = draw(st.sampled_from(LITERALS[left]))
    condition = f"{left} {operator} {right}"
    if draw(st.booleans()):
        other = draw(st.sampled_from(sorted(TYPES)))
        condition += f" or {other} {draw(st.sampled_from(OPERATORS))} "
        condition += draw(st.sampled_from(LITERALS[other]))
    return condition, refused


_MIDNIGHT = [{"d": dt.date(2024, 1, 2), "t": dt.datetime(2024, 1, 2), "h": None, "n": None}]


@fuzz_settings(ci=150, slow=2000)
# The classes of disagreement found before (SQLite compared a date's text with a
# timestamp's), always tried; hypothesis explores around them.
@example(rows=_MIDNIGHT, condition=("d = t", False))
@example(rows=_MIDNIGHT, condition=("d < t", False))
@example(rows=_MIDNIGHT, condition=("t <= d", False))
@example(rows=_MIDNIGHT, condition=("t >= '2024-01-02'", False))
@example(rows=_MIDNIGHT, condition=("h = t", True))
@given(
    rows=st.lists(st.fixed_dictionaries({name: VALUES[name] for name in TYPES}), max_size=5),
    condition=conditions(),
)
def test_typed_comparisons_mean_the_same_on_every_backend(
    session: Any, rows: list[dict[str, Any]], condition: tuple[str, bool]
) -> None:
    session.rm(f"{DIRECTORY}/*")
    for index, row in enumerate(rows):
        session.addentry(f"{DIRECTORY}/e{index}", {k: v for k, v in row.items() if v is not None})
    directory = Directory(
        DIRECTORY,
        {name: python for name, (_, python) in TYPES.items()},
        [{"FILE": f"e{i}", **row} for i, row in enumerate(rows)],
    )

    def resolve(raw: str) -> str:
        return posixpath.normpath(posixpath.join(DIRECTORY, raw))

    text, refused = condition
    if refused:
        with pytest.raises(QueryTypeError):
            list(session.find(f"{DIRECTORY}/*", text))
        return
    expected = sorted(evaluate_find(".", text, {DIRECTORY: directory}, resolve))
    found = sorted(posixpath.basename(path) for path in session.find(f"{DIRECTORY}/*", text))
    assert found == expected, text


@pytest.mark.parametrize(
    "call",
    [
        lambda s: list(s.selectattr([f"sum({DIRECTORY}:n)"], "")),
        lambda s: list(s.selectattr([f"{DIRECTORY}:n * 2"], "")),
        lambda s: list(s.find(f"{DIRECTORY}/*", "n + 1 > 0")),
        lambda s: list(s.find(f"{DIRECTORY}/*", "-n - 2 < 0")),
    ],
    ids=["sum", "product", "sum in a condition", "difference"],
)
def test_an_integer_overflow_is_an_error_on_every_backend(session: Any, call: Any) -> None:
    """Exact integers or an error, never a float or a saturated value (SQLite did both)."""
    session.rm(f"{DIRECTORY}/*")
    session.addentry(f"{DIRECTORY}/big", {"n": BIG})
    session.addentry(f"{DIRECTORY}/big2", {"n": BIG - 1})
    with pytest.raises(ValueOutOfRange):
        call(session)
    assert list(session.selectattr([f"{DIRECTORY}:n - 1"], "n = 9223372036854775807")) == [
        (BIG - 1,)
    ]
