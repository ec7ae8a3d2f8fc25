"""The data-handling entry points on generated hostile input: the recall daemon's HTTP/JSON
API, ``kid.open``, ``bk file close`` and the ``[datahandling]`` settings.

Each must answer with a named error of ours (a JSON error body with a 4xx status, a
``BookkeepingError``, exit status 1 or 2 with one line) and change nothing: no request
recorded, no pin left, no file closed. Never a 500, a traceback or another exception.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.serving import make_server
from werkzeug.test import Client

from bookkeeping.cli import main
from bookkeeping.datahandling import config as dh_config
from bookkeeping.datahandling import kid
from bookkeeping.datahandling.config import DataHandlingConfig, RecallCaller
from bookkeeping.datahandling.requests import MAX_LEASE
from bookkeeping.datahandling.server import RecallApp
from bookkeeping.datahandling.service import DataHandling
from bookkeeping.datahandling.tables import pins, recall_requests
from bookkeeping.errors import BookkeepingError, ConfigError
from tests.datahandling.conftest import World
from tests.datahandling.conftest import world as world  # noqa: PLC0414 (the fixture)
from tests.fuzzing import fuzz_settings

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
# CI time: the API and its engine calls are the same for both implementations.
ON_CATALOGUE = pytest.mark.parametrize("world", ["catalogue"], indirect=True)

HOSTILE_TEXT = st.sampled_from(
    [
        "", " ", "/", "//", "/kloe/../etc/passwd", "/kloe/raw/\x00x", "a" * 5000, "\udcff",
        "é", "\u202e", "f0a", "OFFLINE", "f0a\x00", "'; drop table pins; --", "*", "%",
        "/kloe/raw/j0001/raw00000.raw", "file:///etc/passwd", "http://127.0.0.1:9/",
    ]
) | st.text(max_size=12)  # fmt: skip
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "owner": JSON_VALUES,
        "files": JSON_VALUES | st.lists(HOSTILE_TEXT, max_size=6),
        "areas": JSON_VALUES | st.lists(HOSTILE_TEXT, max_size=4),
        "lease": JSON_VALUES | st.sampled_from([0, -1, MAX_LEASE + 1, 2**63, 1e308, 1.5]),
        "extra": JSON_VALUES,
    },
)


def _body(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


RAW_BODIES = st.one_of(
    FIELDS.map(_body),
    JSON_VALUES.map(_body),
    st.binary(max_size=60),
    st.sampled_from(
        [b"[" * 100_000, b'{"a":' * 50_000, b"1" * 10_000, b'"\\ud800"', b"NaN", b"\xff\xfe"]
    ),
)
PATHS = st.sampled_from(
    ["/requests", "/requests/1", "/requests/1/renew", "/requests/99999999999999999999",
     "/requests/-1", "/requests/1/renew/x", "/areas", "/health", "/", "/requests/%00", "//"]
)  # fmt: skip
METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"])


def _count(world: World, table: sa.Table) -> int:
    with world.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _handling(world: World) -> DataHandling:
    return DataHandling(
        world.engine, world.bookkeeping, world.writer, world.elements, DataHandlingConfig()
    )


# The API is fuzzed as an authenticated service would call it (the refusals of callers
# without a token are tests/datahandling/test_api.py's); kid.open as a plain client.
SERVICE = RecallCaller("fuzz", "fuzz-service-token-0123456789", on_behalf=True)
KID = RecallCaller("kid", "kid-client-token-0123456789")
AUTH = {"Authorization": f"Bearer {SERVICE.token}"}


@pytest.fixture
def recall_world(world: World) -> World:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    world.files(2, se="OFFLINE")
    return world


# Mostly submissions (where the body is read); any method on any path too.
CALLS = st.one_of(
    st.tuples(st.just("POST"), st.just("/requests"), RAW_BODIES),
    st.tuples(st.just("POST"), st.just("/requests/1/renew"), RAW_BODIES),
    st.tuples(METHODS, PATHS, RAW_BODIES),
)


@ON_CATALOGUE
@fuzz_settings(ci=100, slow=3000)
@given(call=CALLS)
@example(call=("POST", "/requests", b"[" * 100_000))  # RecursionError -> 500, once
@example(call=("POST", "/requests", b'{"a":' * 50_000))
def test_the_recall_api_answers_hostile_requests_with_named_errors(
    recall_world: World, call: tuple[str, str, bytes]
) -> None:
    method, path, body = call
    app = RecallApp(_handling(recall_world).requests(), recall_world.registry, clients=[SERVICE])
    client = Client(app)
    before = _count(recall_world, recall_requests)
    answer = client.open(path, method=method, data=body, headers=AUTH)
    text = answer.get_data(as_text=True)
    assert answer.status_code in {200, 201, 400, 404, 405, 422}, (method, path, body[:200], text)
    assert "Traceback" not in text and "sqlalchemy" not in text.lower(), text
    if method != "HEAD":
        parsed = json.loads(text)
        if answer.status_code >= 400:
            error = parsed["error"]
            assert set(error) == {"code", "kind", "message"} and error["message"], parsed
    created = _count(recall_world, recall_requests) - before
    assert created == (1 if answer.status_code == 201 else 0), (method, path, body[:200])
    if answer.status_code == 201:  # a request that was taken is released again
        client.delete(f"/requests/{json.loads(text)['request']}", headers=AUTH)


@pytest.fixture
def live_recall(
    recall_world: World, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, str]]:
    """The recall API on a real loopback socket (werkzeug's server, in a thread); clients
    made meanwhile send ``KID``'s token."""
    monkeypatch.setenv("BK_RECALL_TOKEN", KID.token)
    app = RecallApp(_handling(recall_world).requests(), recall_world.registry, clients=[KID])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recall_world, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


KID_URIS = st.one_of(
    st.tuples(
        st.sampled_from(["file", "lfn", "dbraw", "dbnosuch", "DBRAW", "ybos", "", "db", "l fn"]),
        st.lists(HOSTILE_TEXT, min_size=1, max_size=3).map(",".join),
    ).map(":".join),
    st.sampled_from(
        ["file:" + "/x" * 3000, "file:///" + "a" * 300, "file:%00", "lfn:", "lfn:,,,",
         "dbraw:run = ", "dbraw:run = 1 and", "dbraw:size > 99999999999999999999999",
         "dbraw:" + "(" * 5000, "no scheme", ":", "::", "dbraw:lfn like '%'"]
    ),
)  # fmt: skip


@ON_CATALOGUE
@fuzz_settings(ci=150, slow=3000)
@given(uri=KID_URIS, options=st.sampled_from([{}, {"lease": 0}, {"areas": ["nowhere"]}]))
def test_kid_open_refuses_hostile_uris_by_name(
    live_recall: tuple[World, str], uri: str, options: dict[str, Any]
) -> None:
    world, url = live_recall
    settings = {"recall_url": url, "engine": world.engine, "backend": world.backend, "timeout": 1.0}
    try:
        with kid.open(uri, **settings, **options) as paths:
            assert all(isinstance(path, Path) and path.is_file() for path in paths), uri
    except BookkeepingError as exc:
        assert exc.message and "Traceback" not in exc.message
    assert _count(world, pins) == 0, uri  # nothing left pinned, whatever happened


LFN_ARGUMENTS = st.lists(HOSTILE_TEXT.filter(lambda text: "\x00" not in text), max_size=5)


@ON_CATALOGUE
@fuzz_settings(ci=10, slow=500)
@given(lfns=LFN_ARGUMENTS, extra=st.sampled_from([[], ["--backend", "nosuch"], ["--from", "/"]]))
def test_bk_file_close_refuses_hostile_lfns_and_closes_nothing(
    recall_world: World, lfns: list[str], extra: list[str]
) -> None:
    world = recall_world
    known = world.bookkeeping.life_cycle(world.files(1, se="OFFLINE", state="open"))
    arguments = ["file", "close", "--db", world.url(), "--backend", world.backend, *extra]
    done = CliRunner().invoke(
        main, [*arguments, "--", *[lfn.replace("\udcff", "") for lfn in lfns]]
    )
    assert done.exit_code in {0, 1, 2}, (lfns, done.output)
    assert "Traceback" not in done.output, done.output
    if done.exit_code:
        assert done.output.strip(), lfns  # a failure says what is wrong
    assert world.bookkeeping.life_cycle(list(known)) == known  # the open file stayed open


TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
    HOSTILE_TEXT,
    st.lists(HOSTILE_TEXT, max_size=3),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT | st.integers(), max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["closed", "delete_inputs", "x"]),
                             HOSTILE_TEXT | st.lists(HOSTILE_TEXT, max_size=2)), max_size=3),
)  # fmt: skip
KEYS = st.sampled_from(
    ["flush_bytes", "flush_files", "flush_age_seconds", "lease_seconds", "stale_after_seconds",
     "clean_margin", "recall_tape_age_seconds", "archive", "rules", "recall_clients",
     "nosuch"]
)  # fmt: skip


@fuzz_settings(ci=500, slow=10000)
@given(table=st.dictionaries(KEYS, TOML_VALUES, max_size=5))
def test_datahandling_settings_are_sane_or_refused_by_name(table: dict[str, Any]) -> None:
    try:
        parsed = dh_config.parse(table, "bk.toml")
    except ConfigError as exc:
        assert exc.message.startswith("bk.toml"), exc.message
        return
    for key in dh_config._NUMBERS:
        value = getattr(parsed, key)
        assert math.isfinite(value) and value >= 0, (key, value)
    assert 1 <= parsed.lease_seconds <= MAX_LEASE, parsed.lease_seconds
    assert all(rule.closed and rule.delete_inputs is not None for rule in parsed.rules)
    assert all(source and target for source, target in parsed.archive.items())
