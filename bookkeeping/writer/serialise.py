"""Write a ``JobReport`` as XML or JSON (the inverse of ``bookkeeping.writer.parsing``)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from bookkeeping.writer.model import JobReport


def report_to_dict(report: JobReport) -> dict[str, Any]:
    """The neutral (JSON) shape of the report."""
    params = {
        "DIRAC_JobID": str(report.dirac_job_id),
        "Production": str(report.production),
        "Conditions": report.conditions,
        "ProcessingPass": report.processing_pass,
        **dict(report.parameters),
    }
    if report.run is not None:
        params["RunNumber"] = str(report.run)
    return {
        "ConfigName": report.config_name,
        "ConfigVersion": report.config_version,
        "Date": report.job_date.date().isoformat(),
        "Time": report.job_date.time().isoformat(),
        "TypedParameters": params,
        "EventTypes": [
            {
                "TypeId": str(e.event_type),
                "Description": e.description,
                "Primary": e.primary,
                "Decay": e.decay,
            }
            for e in report.event_types
        ],  # fmt: skip
        "InputFiles": list(report.input_files),
        "OutputFiles": [
            {
                "Name": f.lfn,
                "TypeName": f.file_type,
                "TypeVersion": f.file_type_version,
                "CreationDate": f.creation_time.isoformat(sep=" "),
                "Visible": "Y" if f.visible else "N",
                **({"State": f.state} if f.state != "closed" else {}),
                "Parameters": {
                    "GUID": f.guid,
                    "Size": str(f.size),
                    "EventStat": str(f.events),
                    "EventType": str(f.event_type),
                    "ADLER32": f.checksum,
                    **dict(f.parameters),
                },
                "Replicas": [
                    {
                        "Location": r.site,
                        "StorageClass": r.storage_class,
                        "Area": r.area,
                        "Status": r.status,
                        "Name": r.pfn,
                        **({"SE": r.se, "Path": r.path} if r.se or r.path else {}),
                    }
                    for r in f.replicas
                ],  # fmt: skip
                "Quality": [{"Group": q.group, "Flag": q.flag} for q in f.quality],
            }
            for f in report.output_files
        ],
    }


def report_to_json(report: JobReport) -> str:
    return json.dumps(report_to_dict(report), indent=2)


def report_to_xml(report: JobReport) -> str:
    data = report_to_dict(report)
    job = ElementTree.Element(
        "Job", {key: data[key] for key in ("ConfigName", "ConfigVersion", "Date", "Time")}
    )
    for name, value in data["TypedParameters"].items():
        ElementTree.SubElement(job, "TypedParameter", Name=name, Type="Info", Value=value)
    for event_type in data["EventTypes"]:
        ElementTree.SubElement(job, "EventType", event_type)
    for lfn in data["InputFiles"]:
        ElementTree.SubElement(job, "InputFile", Name=lfn)
    for output in data["OutputFiles"]:
        element = ElementTree.SubElement(
            job,
            "OutputFile",
            {
                k: output[k]
                for k in ("Name", "TypeName", "TypeVersion", "CreationDate", "Visible", "State")
                if k in output
            },
        )
        for name, value in output["Parameters"].items():
            ElementTree.SubElement(element, "Parameter", Name=name, Value=value)
        for replica in output["Replicas"]:
            ElementTree.SubElement(element, "Replica", replica)
        for quality in output["Quality"]:
            ElementTree.SubElement(element, "Quality", quality)
    ElementTree.indent(job)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(job, "unicode") + "\n"
