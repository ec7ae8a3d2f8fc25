"""XML and JSON job reports: round trips, and problems named with their place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeping.errors import ValidationError
from bookkeeping.generator import generate_reports
from bookkeeping.writer.parsing import load_report, parse_json, parse_report, parse_xml
from bookkeeping.writer.serialise import report_to_dict, report_to_json, report_to_xml

REPORTS = list(generate_reports(60, seed=11))
SAMPLE = next(r for r in REPORTS if r.input_files)  # has every kind of element


def test_generated_reports_survive_xml_and_json_round_trips() -> None:
    for report in REPORTS:
        assert parse_xml(report_to_xml(report), report.source) == report
        assert parse_json(report_to_json(report), report.source) == report


def test_parse_report_tells_xml_from_json(tmp_path: Path) -> None:
    report = SAMPLE
    (tmp_path / "a.xml").write_text(report_to_xml(report))
    (tmp_path / "b.json").write_text(report_to_json(report))
    assert load_report(tmp_path / "a.xml") == report
    assert load_report(tmp_path / "b.json") == report
    with pytest.raises(ValidationError, match="neither an XML nor a JSON"):
        parse_report(b"hello", "c.txt")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="missing.xml: cannot be read"):
        load_report(tmp_path / "missing.xml")


def _xml_with(old: str, new: str) -> str:
    text = report_to_xml(SAMPLE)
    assert old in text
    return text.replace(old, new, 1)


def test_malformed_xml_names_the_line() -> None:
    text = _xml_with("</OutputFile>", "</Output>")
    line = text.splitlines().index("  </Output>") + 1
    with pytest.raises(ValidationError, match=rf"r.xml: line {line}: XML is not well-formed"):
        parse_xml(text, "r.xml")


def test_bad_value_names_the_element_line_and_field() -> None:
    text = _xml_with('Name="Size" Value="', 'Name="Size" Value="big')
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'Name="Size"' in t)
    with pytest.raises(ValidationError) as caught:
        parse_xml(text, "r.xml")
    assert f"line {line}: OutputFile[0].Size: 'big" in str(caught.value)


def test_unknown_element_and_attribute_are_named_with_lines() -> None:
    text = _xml_with("<InputFile ", '<Bogus/><InputFile Colour="red" ')
    with pytest.raises(ValidationError) as caught:
        parse_xml(text, "r.xml")
    message = str(caught.value)
    assert "unexpected element <Bogus>" in message
    assert "<InputFile> has no attribute Colour" in message


def test_semantic_problems_are_all_listed() -> None:
    text = _xml_with('StorageClass="tape"', 'StorageClass="floppy"')
    text = text.replace('Name="GUID" Value="', 'Name="GUID" Value="x', 1)
    with pytest.raises(ValidationError) as caught:
        parse_xml(text, "r.xml")
    message = str(caught.value)
    assert "OutputFile[0].Replica[0].StorageClass: 'floppy' is not one of tape, disk, recall" in (
        message
    )
    assert "OutputFile[0].GUID: 'x" in message


def test_entity_declarations_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE Job [<!ENTITY a "aaaa">]><Job ConfigName="&a;"/>'
    with pytest.raises(ValidationError, match=r"a DOCTYPE \(DTD\) is not allowed"):
        parse_xml(bomb, "bomb.xml")


def test_json_problems_are_named_by_json_path() -> None:
    document = report_to_dict(SAMPLE)
    document["TypedParameters"]["Production"] = "twelve"
    document["OutputFiles"][0]["Replicas"][0]["Colour"] = "red"
    with pytest.raises(ValidationError) as caught:
        parse_json(json.dumps(document), "r.json")
    message = str(caught.value)
    assert "$.TypedParameters.Production: 'twelve' is not a whole number" in message
    assert "$.OutputFiles[0].Replicas[0].Colour: unknown field" in message


def test_json_semantic_problem_points_into_parameters() -> None:
    document = report_to_dict(SAMPLE)
    document["OutputFiles"][0]["Parameters"]["ADLER32"] = "XYZ"
    with pytest.raises(ValidationError, match=r"\$\.OutputFiles\[0\]\.Parameters\.ADLER32"):
        parse_json(json.dumps(document), "r.json")


def test_nul_characters_are_refused_by_name_on_every_back_end_alike() -> None:
    """PostgreSQL cannot store a NUL in text, so no back-end may take one."""
    document = report_to_dict(SAMPLE)
    document["ConfigName"] = "LHCb\x00"
    job_parameter = "Host"  # a free-form parameter
    document["TypedParameters"][job_parameter] = "a\x00b"
    with pytest.raises(ValidationError) as caught:
        parse_json(json.dumps(document), "r.json")
    message = str(caught.value)
    assert "ConfigName: contains a NUL character" in message
    assert f"{job_parameter}: contains a NUL character" in message


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ValidationError, match="r.json: line 2 column 1: not valid JSON"):
        parse_json('{"ConfigName":\n', "r.json")


def test_reserved_parameters_fill_the_report_fields() -> None:
    document = report_to_dict(SAMPLE)
    document["OutputFiles"][0]["Parameters"]["Size"] = "12"
    assert parse_json(json.dumps(document)).output_files[0].size == 12


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        parse_report(b"<" + data, "fuzz")
        parse_report(b"{" + data, "fuzz")
    except ValidationError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(
                        ["ConfigName", "TypedParameters", "OutputFiles", "Parameters", "Name",
                         "Replicas", "Date", "x"]), inner, max_size=4),
                    max_leaves=12))  # fmt: skip
def test_arbitrary_json_documents_are_rejected_cleanly(document: object) -> None:
    with pytest.raises(ValidationError):
        parse_json(json.dumps(document), "fuzz")
