"""``bk ingest`` and ``bk generate`` through click's CliRunner, on every back-end."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.cli import main
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import ScratchDatabase
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.tables import files, jobs
from bookkeeping.writer.serialise import report_to_dict, report_to_json, report_to_xml
from tests.catalogue_bookkeeping.conftest import add_root

REPORTS = list(generate_reports(30, seed=3))


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(table))


def test_ingest_records_good_reports_names_bad_ones_and_fails(
    backend: ScratchDatabase, engine: Engine, tmp_path: Path
) -> None:
    paths = []
    for index, report in enumerate(REPORTS[:6]):
        path = tmp_path / f"r{index}.{'xml' if index % 2 else 'json'}"
        path.write_text(report_to_xml(report) if index % 2 else report_to_json(report))
        paths.append(str(path))
    bad = report_to_dict(REPORTS[6])
    bad["OutputFiles"][0]["Parameters"]["EventStat"] = "many"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "broken.xml").write_text("<Job>")
    arguments = [
        "ingest",
        "--db",
        backend.url,
        "--backend",
        "warehouse",
        *paths[:3],
        str(tmp_path / "bad.json"),
    ]
    arguments += [str(tmp_path / "broken.xml"), *paths[3:], paths[0]]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    assert "warehouse: 6 recorded, 1 duplicate, 2 failed" in result.stdout
    assert "bad.json: invalid job report: $.OutputFiles[0].Parameters.EventStat" in result.stderr
    assert "broken.xml: line 1: XML is not well-formed" in result.stderr
    assert _count(engine, jobs) == 6
    stored = WarehouseBookkeeping(engine).file_by_lfn(REPORTS[5].output_files[0].lfn)
    assert stored is not None and stored.guid == REPORTS[5].output_files[0].guid


def test_ingest_of_good_reports_exits_zero_and_is_idempotent(
    backend: ScratchDatabase, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "one.xml"
    path.write_text(report_to_xml(REPORTS[0]))
    for expected in ("1 recorded, 0 duplicate", "0 recorded, 1 duplicate"):
        result = CliRunner(env={"BK_BACKEND": "warehouse"}).invoke(
            main, ["ingest", "--db", backend.url, str(path)]
        )
        assert result.exit_code == 0, result.output
        assert expected in result.stdout
    assert _count(engine, jobs) == 1


def test_ingest_into_both_backends_records_the_same_files(
    backend: ScratchDatabase, engine: Engine, tmp_path: Path
) -> None:
    paths = []
    for index, report in enumerate(REPORTS[:4]):
        path = tmp_path / f"r{index}.xml"
        path.write_text(report_to_xml(report))
        paths.append(str(path))
    add_root(engine)  # the catalogue user the writer acts as (bk init creates it)
    result = CliRunner().invoke(main, ["ingest", "--db", backend.url, "--backend", "both", *paths])
    assert result.exit_code == 0, result.output
    assert "warehouse: 4 recorded, 0 duplicate, 0 failed" in result.stdout
    assert "catalogue: 4 recorded, 0 duplicate, 0 failed" in result.stdout
    lfn = REPORTS[3].output_files[0].lfn
    from_catalogue = CatalogueBookkeeping(engine).file_by_lfn(lfn)
    assert from_catalogue is not None
    assert from_catalogue == WarehouseBookkeeping(engine).file_by_lfn(lfn)


def test_ingest_without_schema_asks_for_bk_init(backend: ScratchDatabase, tmp_path: Path) -> None:
    path = tmp_path / "one.xml"
    path.write_text(report_to_xml(REPORTS[0]))
    result = CliRunner().invoke(
        main, ["ingest", "--db", backend.url, "--backend", "warehouse", str(path)]
    )
    assert result.exit_code == 1
    # A missing SQLite file is named and not created; a server database without the schema
    # is "run bk init first": either way the one line says to run bk init.
    assert "bk init" in result.stderr and "Traceback" not in result.stderr


def test_generate_writes_exactly_the_files_asked_for_reproducibly(
    backend: ScratchDatabase, engine: Engine
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "--db",
            backend.url,
            "--backend",
            "warehouse",
            "--files",
            "250",
            "--seed",
            "9",
            "--batch-size",
            "40",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "250 files recorded in" in result.stdout
    assert _count(engine, files) == 250
    expected = list(generate_reports(250, seed=9))
    assert _count(engine, jobs) == len(expected)
    last = expected[-1].output_files[-1]
    stored = WarehouseBookkeeping(engine).file_by_lfn(last.lfn)
    assert stored is not None and (stored.guid, stored.size) == (last.guid, last.size)
    again = CliRunner().invoke(
        main,
        [
            "generate",
            "--db",
            backend.url,
            "--backend",
            "warehouse",
            "--files",
            "250",
            "--seed",
            "9",
        ],
    )
    assert f"0 jobs recorded (0 files), {len(expected)} already there" in again.stdout
    assert "0 files recorded in" in again.stdout
    assert _count(engine, files) == 250


def test_ingest_names_the_report_that_conflicts(
    backend: ScratchDatabase, engine: Engine, tmp_path: Path
) -> None:
    child = next(r for r in REPORTS if r.input_files)
    path = tmp_path / "child.xml"
    path.write_text(report_to_xml(child))
    result = CliRunner().invoke(
        main, ["ingest", "--db", backend.url, "--backend", "warehouse", str(path)]
    )
    assert result.exit_code == 1
    assert f"{path}: input file {child.input_files[0]} is not in the bookkeeping" in result.stderr
    assert _count(engine, jobs) == 0
