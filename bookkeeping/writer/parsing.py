"""Job reports from XML (shaped like LHCb's bookkeeping job reports) and from JSON.

XML::

    <Job ConfigName="LHCb" ConfigVersion="Collision12" Date="2012-05-01" Time="12:00:00">
      <TypedParameter Name="DIRAC_JobID" Type="Info" Value="40000001"/>
      <TypedParameter Name="Production" Type="Info" Value="12345"/>
      <TypedParameter Name="Conditions" Type="Info" Value="Beam4000GeV-VeloClosed-MagDown"/>
      <TypedParameter Name="ProcessingPass" Type="Info" Value="Real Data/Reco14"/>
      <EventType TypeId="90000000" Description="Full stream"/>
      <InputFile Name="/lhcb/LHCb/Collision12/RAW/00012344/0000/00012344_00000001_1.raw"/>
      <OutputFile Name="/lhcb/..." TypeName="SDST" TypeVersion="ROOT" Visible="N">
        <Parameter Name="GUID" Value="..."/>   <!-- also Size, EventStat, EventType, ADLER32 -->
        <Replica Location="CERN" StorageClass="tape" Name="srm://..."/>
        <Quality Group="DQ" Flag="OK"/>
      </OutputFile>
    </Job>

JSON has the neutral shape of ``bookkeeping.writer.building``. Every problem is reported
with its place: an XML line and element, or a JSON path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, NoReturn
from xml.parsers import expat

from bookkeeping.errors import ValidationError
from bookkeeping.writer.building import build_report
from bookkeeping.writer.model import JobReport
from bookkeeping.writer.validation import Path, Problem, describe_path, raise_problems

MAX_REPORT_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 8  # a report nests three deep (Job, OutputFile, Parameter)

_ELEMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # element: (allowed attributes, required attributes)
    "Job": (frozenset({"ConfigName", "ConfigVersion", "Date", "Time"}), frozenset()),
    "TypedParameter": (frozenset({"Name", "Value", "Type"}), frozenset({"Name", "Value"})),
    "EventType": (frozenset({"TypeId", "Description", "Primary", "Decay"}), frozenset()),
    "InputFile": (frozenset({"Name"}), frozenset({"Name"})),
    "OutputFile": (
        frozenset({"Name", "TypeName", "TypeVersion", "CreationDate", "Visible", "State"}),
        frozenset(),
    ),
    "Parameter": (frozenset({"Name", "Value"}), frozenset({"Name", "Value"})),
    "Replica": (
        frozenset({"Location", "StorageClass", "Area", "Status", "Name", "SE", "Path"}),
        frozenset(),
    ),
    "Quality": (frozenset({"Group", "Flag"}), frozenset()),
}
_CHILDREN = {
    "Job": {"TypedParameter", "EventType", "InputFile", "OutputFile"},
    "OutputFile": {"Parameter", "Replica", "Quality"},
}


@dataclass
class _Element:
    tag: str
    attributes: dict[str, str]
    line: int
    children: list[_Element] = field(default_factory=list)


def _tree(data: bytes, source: str) -> _Element:
    parser = expat.ParserCreate()
    # What defusedxml does, in three lines: no DTD (so no external one is ever fetched or
    # parameter entity expanded), no entity declarations ("billion laughs"), no nesting
    # deeper than a report has.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []

    def refuse(what: str) -> NoReturn:
        raise ValidationError(f"{source}: line {parser.CurrentLineNumber}: {what}")

    def start(tag: str, attributes: dict[str, str]) -> None:
        if len(stack) >= _MAX_DEPTH:
            refuse(f"elements nested deeper than {_MAX_DEPTH} levels")
        element = _Element(tag, attributes, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def text(content: str) -> None:
        if content.strip():
            raise ValidationError(
                f"{source}: line {parser.CurrentLineNumber}: unexpected text {content.strip()!r}"
            )

    def no_entities(name: str, *_args: Any) -> None:
        # Entity declarations enable "billion laughs" expansion; reports never need them.
        raise ValidationError(
            f"{source}: line {parser.CurrentLineNumber}: entity declarations are not allowed"
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.EntityDeclHandler = no_entities
    parser.StartDoctypeDeclHandler = lambda *_: refuse("a DOCTYPE (DTD) is not allowed")
    parser.ExternalEntityRefHandler = lambda *_: refuse("external entities are not allowed")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        reason = expat.errors.messages[exc.code]
        raise ValidationError(
            f"{source}: line {exc.lineno}: XML is not well-formed: {reason}"
        ) from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise ValidationError(f"{source}: line 1: {exc}; reports are UTF-8") from None
    except ValueError as exc:  # a codec that cannot serve expat (multi-byte, stateful)
        raise ValidationError(f"{source}: line 1: unusable encoding: {exc}") from None
    if not roots:
        raise ValidationError(f"{source}: no root element")
    return roots[0]


class _XmlShape:
    """The element tree mapped onto the neutral shape, with a line for each path."""

    def __init__(self, root: _Element) -> None:
        self.lines: dict[Path, int] = {(): root.line}
        self.problems: list[Problem] = []
        self.data = self._job(root)

    def _check(self, element: _Element, path: Path) -> dict[str, str]:
        allowed, required = _ELEMENTS.get(element.tag, (frozenset(), frozenset()))
        for name in sorted(set(element.attributes) - allowed):
            self.problems.append(Problem((*path, name), f"<{element.tag}> has no attribute {name}"))
        for name in sorted(required - set(element.attributes)):
            self.problems.append(Problem((*path, name), f"<{element.tag}> needs attribute {name}"))
        return {k: v for k, v in element.attributes.items() if k in allowed and k != "Type"}

    def _children(self, element: _Element, path: Path) -> list[_Element]:
        allowed = _CHILDREN.get(element.tag, set())
        known = []
        for child in element.children:
            if child.tag in allowed:
                known.append(child)
            else:
                self.lines[(*path, child.tag)] = child.line
                self.problems.append(
                    Problem((*path, child.tag), f"unexpected element <{child.tag}>")
                )
        return known

    def _job(self, root: _Element) -> dict[str, Any]:
        if root.tag != "Job":
            self.problems.append(Problem((), f"the root element is <{root.tag}>, not <Job>"))
        job: dict[str, Any] = dict(self._check(root, ()))
        params: dict[str, str] = {}
        event_types: list[dict[str, str]] = []
        inputs: list[str] = []
        outputs: list[dict[str, Any]] = []
        for child in self._children(root, ()):
            if child.tag == "TypedParameter":
                attributes = self._check(child, ("TypedParameter",))
                name = attributes.get("Name", "")
                self.lines[("TypedParameter", name)] = self.lines[(name,)] = child.line
                if name in params:
                    self.problems.append(Problem(("TypedParameter", name), "is given twice"))
                params[name] = attributes.get("Value", "")
            elif child.tag == "EventType":
                self.lines[("EventType", len(event_types))] = child.line
                event_types.append(self._check(child, ("EventType", len(event_types))))
            elif child.tag == "InputFile":
                self.lines[("InputFile", len(inputs))] = child.line
                inputs.append(self._check(child, ("InputFile", len(inputs))).get("Name", ""))
            else:
                outputs.append(self._output(child, ("OutputFile", len(outputs))))
        job.update(
            TypedParameters=params, EventTypes=event_types, InputFiles=inputs, OutputFiles=outputs
        )
        return job

    def _output(self, element: _Element, path: Path) -> dict[str, Any]:
        self.lines[path] = element.line
        output: dict[str, Any] = dict(self._check(element, path))
        params: dict[str, str] = {}
        replicas: list[dict[str, str]] = []
        quality: list[dict[str, str]] = []
        for child in self._children(element, path):
            if child.tag == "Parameter":
                attributes = self._check(child, (*path, "Parameter"))
                name = attributes.get("Name", "")
                self.lines[(*path, name)] = self.lines[(*path, "Parameter", name)] = child.line
                if name in params:
                    self.problems.append(Problem((*path, "Parameter", name), "is given twice"))
                params[name] = attributes.get("Value", "")
            elif child.tag == "Replica":
                where: Path = (*path, "Replica", len(replicas))
                self.lines[where] = child.line
                replicas.append(self._check(child, where))
            else:
                where = (*path, "Quality", len(quality))
                self.lines[where] = child.line
                quality.append(self._check(child, where))
        output.update(Parameters=params, Replicas=replicas, Quality=quality)
        return output

    def locate(self, path: Path) -> str:
        for length in range(len(path), -1, -1):
            if path[:length] in self.lines:
                return f"line {self.lines[path[:length]]}: {describe_path(path) or 'Job'}"
        return describe_path(path)


def parse_xml(data: bytes | str, source: str = "<xml>") -> JobReport:
    """Parse and validate an XML job report; ``ValidationError`` lists every problem."""
    raw = data.encode() if isinstance(data, str) else data
    shape = _XmlShape(_tree(raw, source))
    report, problems = build_report(shape.data, source)
    raise_problems(shape.problems + problems, source, shape.locate)
    assert report is not None
    return report


_JSON_LISTS = {"EventType": "EventTypes", "InputFile": "InputFiles", "OutputFile": "OutputFiles",
               "Replica": "Replicas", "Quality": "Quality"}  # fmt: skip
_JSON_RESERVED_JOB = {"DIRAC_JobID", "Production", "Conditions", "ProcessingPass", "RunNumber"}
_JSON_RESERVED_FILE = {"GUID", "Size", "EventStat", "EventType", "ADLER32"}


def json_path(path: Path) -> str:
    """A problem path in JSON terms: ``("OutputFile", 0, "Size")`` ->
    ``$.OutputFiles[0].Parameters.Size``."""
    parts = ["$"]
    items = list(path)
    if items and items[0] in _JSON_RESERVED_JOB:
        return f"$.TypedParameters.{items[0]}"
    if items[:1] == ["TypedParameter"]:
        return "$.TypedParameters" + "".join(f".{p}" for p in items[1:])
    while items:
        part = items.pop(0)
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part == "InputFile" and items:
            parts.append(f".InputFiles[{items.pop(0)}]")
            items = []
        elif part in _JSON_LISTS:
            parts.append(f".{_JSON_LISTS[part]}")
        elif part == "Parameter":
            parts.append(".Parameters")
        elif len(parts) > 1 and parts[-1].startswith("[") and part in _JSON_RESERVED_FILE:
            parts.append(f".Parameters.{part}")
        else:
            parts.append(f".{part}")
    return "".join(parts)


def parse_json(data: bytes | str, source: str = "<json>") -> JobReport:
    """Parse and validate a JSON job report; ``ValidationError`` lists every problem."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{source}: not valid UTF-8: {exc.reason}") from None
    except RecursionError:
        raise ValidationError(f"{source}: arrays or objects nested too deeply") from None
    except ValueError as exc:  # a number beyond Python's int conversion limit
        raise ValidationError(f"{source}: not a usable JSON report: {exc}") from None
    report, problems = build_report(document, source)
    raise_problems(problems, source, lambda path: json_path(path))
    assert report is not None
    return report


def parse_report(data: bytes, source: str) -> JobReport:
    """XML or JSON, told apart by the first non-blank character."""
    if len(data) > MAX_REPORT_BYTES:
        raise ValidationError(f"{source}: larger than {MAX_REPORT_BYTES} bytes")
    start = data.lstrip()[:1]
    if start == b"<":
        return parse_xml(data, source)
    if start in (b"{", b"["):
        return parse_json(data, source)
    raise ValidationError(f"{source}: neither an XML nor a JSON job report")


def load_report(path: FilePath) -> JobReport:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_report(data, str(path))
