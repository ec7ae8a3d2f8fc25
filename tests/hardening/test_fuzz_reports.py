"""Hostile job reports: each is accepted or refused with our ValidationError naming it, never
an exception of another kind; `bk ingest` records the good ones given with a bad one, and
`POST /api/v1/jobs` never answers 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.cli import main
from bookkeeping.errors import ValidationError
from bookkeeping.generator import generate_reports
from bookkeeping.writer.parsing import parse_report
from bookkeeping.writer.serialise import report_to_json, report_to_xml
from tests.fuzzing import fuzz_settings
from tests.webui.conftest import make_app
from webui.tokens import create_token

# Hostile inputs are large on purpose; hypothesis warns when it would print one.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

REPORTS = list(generate_reports(4, seed=3))
XML = [report_to_xml(report).encode() for report in REPORTS]
JSON = [report_to_json(report).encode() for report in REPORTS]

HOSTILE_VALUES = [
    "9" * 5000,  # beyond Python's int/str conversion limit
    "9" * 25,  # beyond 64 bits
    "-1",
    "1e999",
    "NaN",
    "²³",  # str.isdigit() says yes, int() says no
    "\x00",
    "x" * 70_000,
    "",
    "0x10",
    "  12 ",
    "١٢٣",  # Arabic-Indic digits
]
ENCODINGS = ["x-no-such-encoding", "utf-16", "utf-32", "cp037", "utf-7", "idna", "rot13", "bz2"]


def _xml_mutations() -> st.SearchStrategy[bytes]:
    base = st.sampled_from(XML)
    value = st.sampled_from(HOSTILE_VALUES)
    replaced = st.builds(
        lambda doc, v, n: doc.replace(b'Value="', b'Value="' + v.encode() + b"", n + 1)
        .replace(b'Value="' + v.encode(), b'Value="', n),
        base, value, st.integers(0, 20),
    )  # fmt: skip
    declared = st.builds(
        lambda doc, enc: b'<?xml version="1.0" encoding="' + enc.encode() + b'"?>' + doc,
        base, st.sampled_from(ENCODINGS) | st.text(min_size=1, max_size=12).map(
            lambda t: t.replace('"', "")
        ),
    )  # fmt: skip
    doctype = st.builds(
        lambda doc, dtd: dtd + doc,
        base,
        st.sampled_from(
            [
                b'<!DOCTYPE Job SYSTEM "http://127.0.0.1:9/job.dtd">',
                b'<!DOCTYPE Job SYSTEM "file:///etc/passwd">',
                b'<!DOCTYPE Job [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
                b'<!DOCTYPE Job [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
            ]
        ),
    )
    nested = st.integers(1, 100_000).map(
        lambda depth: b"<Job>" + b"<OutputFile>" * depth + b"</OutputFile>" * depth + b"</Job>"
    )
    spliced = st.builds(
        lambda doc, at, junk: doc[:at] + junk + doc[at:],
        base, st.integers(0, 3000), st.binary(min_size=1, max_size=40),
    )  # fmt: skip
    return replaced | declared | doctype | nested | spliced


def _json_mutations() -> st.SearchStrategy[bytes]:
    def with_value(doc: bytes, key: str, value: str) -> bytes:
        data = json.loads(doc)
        target = data["OutputFiles"][0]["Parameters"] if key != "job" else data
        target["Size" if key != "job" else "ConfigName"] = value
        return json.dumps(data).encode()

    huge = st.integers(4300, 20_000).map(lambda n: b'{"ConfigName": ' + b"7" * n + b"}")
    deep = st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n)
    deep_object = st.integers(1, 100_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
    valued = st.builds(
        with_value, st.sampled_from(JSON), st.sampled_from(["file", "job"]),
        st.sampled_from(HOSTILE_VALUES),
    )  # fmt: skip
    numbers = st.sampled_from([b"1e999999", b"-0", b"1" + b"0" * 400, b"NaN", b"Infinity"]).map(
        lambda n: b'{"ConfigName": "LHCb", "OutputFiles": [{"Parameters": {"Size": ' + n + b"}}]}"
    )
    return huge | deep | deep_object | valued | numbers


def _refused_or_accepted(data: bytes) -> None:
    try:
        parse_report(data, "fuzzed")
    except ValidationError as exc:
        assert str(exc).startswith("fuzzed"), str(exc)[:200]
        assert len(str(exc)) < 20_000  # named, not echoed


@fuzz_settings(ci=1500)
@given(_xml_mutations())
def test_hostile_xml_reports_are_refused_with_a_validation_error(data: bytes) -> None:
    _refused_or_accepted(data)


@fuzz_settings(ci=1500)
@given(_json_mutations())
def test_hostile_json_reports_are_refused_with_a_validation_error(data: bytes) -> None:
    _refused_or_accepted(data)


@pytest.mark.parametrize(
    "dtd",
    [
        b'<!DOCTYPE Job SYSTEM "http://127.0.0.1:9/job.dtd">',
        b"<!DOCTYPE Job>",
    ],
)
def test_a_dtd_is_refused_by_name(dtd: bytes) -> None:
    with pytest.raises(ValidationError, match="DOCTYPE"):
        parse_report(b'<?xml version="1.0"?>' + dtd + XML[0], "r.xml")


def test_an_unknown_encoding_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="unknown encoding"):
        parse_report(b'<?xml version="1.0" encoding="x-nope"?><Job/>', "r.xml")


def test_ingest_records_the_good_reports_and_names_each_bad_one(tmp_path: Path, backend) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    url = backend.url
    assert runner.invoke(main, ["init", "--db", url]).exit_code == 0
    files = []
    bad = {
        "huge.json": b'{"ConfigName": ' + b"9" * 5000 + b"}",
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "encoding.xml": b'<?xml version="1.0" encoding="x-nope"?><Job/>',
        "dtd.xml": b'<!DOCTYPE Job SYSTEM "http://127.0.0.1:9/x.dtd">' + XML[2],
    }
    for index, report in enumerate((XML[0], JSON[1])):
        path = tmp_path / f"good{index}.{'xml' if index == 0 else 'json'}"
        path.write_bytes(report)
        files.append(path)
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        files.insert(1, tmp_path / name)
    result = runner.invoke(
        main, ["ingest", "--db", url, "--backend", "warehouse", *map(str, files)]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "warehouse: 2 recorded, 0 duplicate, 4 failed" in result.output, result.output
    for name in bad:
        assert name in result.output


@pytest.fixture
def writable_app(engine) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="producer"))
    token = create_token(engine, "producer")
    app = make_app(engine.url.render_as_string(hide_password=False))
    yield app, token
    app.extensions["bookkeeping"].engine.dispose()


def test_post_jobs_never_answers_5xx(writable_app: tuple[Flask, str]) -> None:
    app, token = writable_app
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [
        (b'{"ConfigName": ' + b"9" * 5000 + b"}", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'<?xml version="1.0" encoding="x-nope"?><Job/>', "application/xml"),
        (b'<!DOCTYPE Job SYSTEM "http://127.0.0.1:9/x.dtd">' + XML[0], "application/xml"),
        (
            b"<Job>" + b"<OutputFile>" * 50_000 + b"</OutputFile>" * 50_000 + b"</Job>",
            "application/xml",
        ),  # fmt: skip
        (XML[0].replace(b'"Size" Value="', b'"Size" Value="' + b"9" * 30), "application/xml"),
        (b"\xff\xfe\x00", "application/json"),
    ]
    for body, mimetype in bodies:
        response = client.post("/api/v1/jobs", data=body, headers=headers, content_type=mimetype)
        assert response.status_code in (400, 409, 413, 415, 422), (
            body[:80], response.status_code, response.get_data()[:300],
        )  # fmt: skip
        assert response.get_json()["message"]
