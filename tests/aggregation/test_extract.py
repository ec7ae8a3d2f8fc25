"""``bk extract --mdd``: generated files with real bytes and a metadata header, extracted
into an empty bookkeeping, then found by a search; re-extraction updates, never duplicates;
bad descriptions and files fail clearly."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bookkeeping.aggregation.description import load
from bookkeeping.aggregation.errors import InvalidDescription
from bookkeeping.aggregation.filters import from_mapping
from bookkeeping.aggregation.search import run_search
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.cli import main
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.storage.materialise import Materialiser
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.warehouse.reader import WarehouseBookkeeping

SEED = 31


@pytest.fixture(scope="module")
def made_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Path], list]]:
    """Files ``bk generate --materialise`` writes (on a throw-away bookkeeping), and the
    reports that described them; the disk copies' files are what the extractor reads."""
    root = tmp_path_factory.mktemp("made")
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        materialiser = Materialiser(StorageRegistry(engine), root, SEED, 100_000)
        try:
            reports = list(materialiser.reports(generate_reports(30, seed=SEED)))
        finally:
            materialiser.close()
            engine.dispose()
    by_lfn = {o.lfn: o for r in reports for o in r.output_files}
    one_each: dict[str, Path] = {}  # a file with disk copies at two sites: one of them
    for path in sorted(root.glob("*-DISK/**/*")):
        if path.is_file() and not path.name.startswith("."):
            one_each.setdefault(_lfn(root, path), path)
    assert one_each
    files = list(one_each.values())
    yield files, [by_lfn[lfn] for lfn in one_each]


def _lfn(root: Path, file: Path) -> str:
    relative = file.relative_to(root)
    return "/" + "/".join(relative.parts[1:])


@pytest.fixture
def target(backend: Any) -> Iterator[str]:  # type: ignore[no-untyped-def]
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))
    engine.dispose()
    yield backend.url


def _extract(url: str, *arguments: str) -> Any:
    return CliRunner().invoke(
        main, ["extract", "--db", url, "--backend", "both", *arguments], catch_exceptions=False
    )


def test_extract_then_search_finds_the_files(made_files, target: str) -> None:  # type: ignore[no-untyped-def]
    files, outputs = made_files
    result = _extract(target, "--mdd", "generated", *map(str, files))
    assert result.exit_code == 0, result.output
    assert result.output.count("recorded ") == len(files)
    engine = create_engine(target)
    try:
        reader = WarehouseBookkeeping(engine)
        found = run_search(reader, from_mapping({}))
        visible = sorted(o.lfn for o in outputs if o.visible)
        assert [f.lfn for f in found.files] == visible
        for output in outputs:
            record = reader.file_by_lfn(output.lfn)
            assert record is not None
            assert (record.checksum, record.size, record.events, record.guid) == (
                output.checksum,
                output.size,
                output.events,
                output.guid,
            )
        # The catalogue recorded the same.
        from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping

        assert run_search(CatalogueBookkeeping(engine), from_mapping({})) == found
        # E2: extracting again records nothing twice.
        again = _extract(target, "--mdd", "generated", *map(str, files))
        assert again.exit_code == 0 and again.output.count("unchanged ") == len(files)
        assert run_search(reader, from_mapping({})) == found
    finally:
        engine.dispose()


def test_reextraction_updates_what_changed(made_files, target: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files, outputs = made_files
    assert _extract(target, "--mdd", "generated", str(files[0])).exit_code == 0
    text = files[0].read_bytes()
    flipped = text.replace(b"Visible: Y\n", b"Visible: N\n", 1)
    if flipped == text:
        flipped = text.replace(b"Visible: N\n", b"Visible: Y\n", 1)
    changed = tmp_path / files[0].name
    changed.write_bytes(flipped)
    result = _extract(target, "--mdd", "generated", str(changed))
    # Its bytes (and so adler32) differ: refused, not rewritten, not duplicated.
    assert result.exit_code == 1 and "a recorded file's contents are not rewritten" in result.output


def test_bad_descriptions_and_files_fail_clearly(made_files, target: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files, _ = made_files
    bad = tmp_path / "bad.toml"
    bad.write_text('[file]\nlfn = { key = "LFN", type = "float" }\n')
    with pytest.raises(InvalidDescription, match="type 'float' is not one of"):
        load(str(bad))
    result = _extract(target, "--mdd", str(bad), str(files[0]))
    assert result.exit_code == 1 and "type 'float'" in result.output
    assert "Traceback" not in result.output
    plain = tmp_path / "plain.dst"
    plain.write_bytes(b"no header here")
    mixed = _extract(target, "--mdd", "generated", str(plain), str(files[1]))
    assert mixed.exit_code == 1
    assert "does not start with 'BKMD 1'" in mixed.output and "recorded " in mixed.output


def test_binary_offsets_are_described_too(tmp_path: Path) -> None:
    import struct

    from bookkeeping.aggregation.description import extract_values

    description = tmp_path / "binary.toml"
    description.write_text(
        "[job]\nconfig_name = { offset = 4, length = 8 }\n"
        "config_version = { offset = 12, length = 4 }\n"
        'job_date = { offset = 16, length = 19, type = "datetime" }\n'
        'dirac_job_id = { offset = 35, format = ">I" }\n'
        'production = { offset = 39, format = ">I" }\n'
        "conditions = { offset = 43, length = 4 }\nprocessing_pass = { offset = 47, length = 4 }\n"
        "[file]\nlfn = { offset = 51, length = 16 }\nfile_type = { offset = 67, length = 3 }\n"
        "file_type_version = { offset = 70, length = 4 }\nguid = { offset = 74, length = 4 }\n"
        'size = { computed = "size" }\nevents = { offset = 78, format = ">H" }\n'
        'event_type = { offset = 80, format = ">I" }\n'
        'creation_time = { offset = 16, length = 19, type = "datetime" }\n'
        'checksum = { computed = "adler32" }\n'
    )
    data = (
        b"RAW1"
        + b"Test\x00\x00\x00\x00"
        + b"v1\x00\x00"
        + b"2024-01-02 03:04:05"
        + struct.pack(">II", 77, 1234)
        + b"cond"
        + b"pass"
        + b"/test/a/file.raw"
        + b"RAW"
        + b"ROOT"
        + b"guid"
        + struct.pack(">HI", 500, 90000000)
    )
    file = tmp_path / "file.raw"
    file.write_bytes(data)
    values = extract_values(load(str(description)), file)
    assert values["job"]["config_name"] == "Test" and values["job"]["dirac_job_id"] == 77
    assert values["file"]["events"] == 500 and values["file"]["size"] == len(data)
    assert sys.byteorder  # (struct formats name their byte order; the machine's does not matter)
