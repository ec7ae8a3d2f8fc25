"""The file page's storage columns and the streamed download of a disk copy, on a database
whose files were materialised (real bytes on disk pools, recall areas and tape)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.materialise import Materialiser
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from tests.webui.conftest import make_app


@pytest.fixture(scope="module")
def materialised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    root = tmp_path_factory.mktemp("storage")
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        materialiser = Materialiser(StorageRegistry(engine), root, seed=3, scale=1_000_000)
        WarehouseWriter(engine).record_batch(
            list(materialiser.reports(generate_reports(60, seed=3)))
        )
        materialiser.close()
        engine.dispose()
        app = make_app(database.url, BOOKKEEPING_BACKEND="warehouse")
        try:
            yield app, database.url
        finally:
            app.extensions["bookkeeping"].engine.dispose()


def _files(url: str) -> list:
    engine = create_engine(url)
    try:
        bookkeeping = WarehouseBookkeeping(engine)
        records = bookkeeping.files(DatasetPath()).files
        return [(r, bookkeeping.replicas(r.file_id)) for r in records]
    finally:
        engine.dispose()


def test_the_page_shows_se_role_and_streams_a_disk_copy(
    materialised: tuple[Flask, str],
) -> None:
    app, url = materialised
    client: FlaskClient = app.test_client()
    files = _files(url)
    on_disk = next(
        (r, c)
        for r, c in files
        if any(x.storage_class == "disk" and x.status == "available" for x in c)
    )
    record = on_disk[0]
    data = client.get(f"/api/v1/file/{record.file_id}").get_json()
    disk = [r for r in data["replicas"] if r["storage_class"] == "disk"][0]
    assert disk["se"].endswith("-DISK") and disk["role"] == "offline"
    assert disk["path"] == record.lfn and disk["download"] == f"/file/{record.file_id}/download"
    tape = [r for r in data["replicas"] if r["storage_class"] == "tape"][0]
    assert tape["role"] == "tape" and tape["download"] is None
    page = client.get(f"/file/{record.file_id}").get_data(as_text=True)
    assert disk["se"] in page and f'href="/file/{record.file_id}/download"' in page
    response = client.get(f"/file/{record.file_id}/download")
    assert response.status_code == 200 and response.is_streamed
    body = response.get_data()
    assert format_adler32(zlib.adler32(body)) == record.checksum
    assert response.headers["Digest"] == f"adler32={record.checksum}"
    assert int(response.headers["Content-Length"]) == len(body)
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_file_only_on_tape_is_not_downloadable(materialised: tuple[Flask, str]) -> None:
    app, url = materialised
    client = app.test_client()
    tape_only = next(
        r
        for r, copies in _files(url)
        if {c.storage_class for c in copies if c.status == "available"} == {"tape"}
    )
    response = client.get(f"/file/{tape_only.file_id}/download")
    assert response.status_code == 404
    assert "recalled first" in response.get_data(as_text=True)
    assert client.get("/file/999999999/download").status_code == 404


def test_a_corrupted_copy_is_cut_short(materialised: tuple[Flask, str], tmp_path: Path) -> None:
    app, url = materialised
    client = app.test_client()
    record, copies = next(
        (r, c)
        for r, c in _files(url)
        if [x for x in c if x.storage_class == "disk" and x.status == "available"]
        and not [x for x in c if x.storage_class == "recall"]
    )
    engine = create_engine(url)
    try:
        registry = StorageRegistry(engine)
        disk = [c for c in copies if c.storage_class == "disk" and c.status == "available"][0]
        element = registry.open(disk.se)
        root = Path(element.url.removeprefix("file://"))
    finally:
        engine.dispose()
    on_disk = root / disk.path.lstrip("/")
    original = on_disk.read_bytes()
    try:
        on_disk.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])
        response = client.get(f"/file/{record.file_id}/download")
        with pytest.raises(Exception, match="adler32"):
            response.get_data()
    finally:
        on_disk.write_bytes(original)
