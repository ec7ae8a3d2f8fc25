"""KID-style access: URIs opened through scheme plug-ins, files pinned while the context is
open and released when it closes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bookkeeping.datahandling import kid
from bookkeeping.datahandling.errors import KidError
from bookkeeping.datahandling.tables import pins
from tests.datahandling.conftest import World
from tests.datahandling.daemons import ALICE_TOKEN, recall_daemon


def _pin_owners(world: World) -> set[str]:
    with world.engine.connect() as connection:
        return set(connection.scalars(sa.select(pins.c.owner)))


def _pins(world: World) -> int:
    with world.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(pins)).scalar())


@pytest.mark.parametrize("world", ["catalogue"], indirect=True)  # CI time: one implementation
def test_lfn_and_db_uris_yield_pinned_local_copies(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    raw = world.files(2, se="OFFLINE", file_type="RAW", sizes=(300,))
    rec = world.files(3, se="OFFLINE", file_type="DATAREC", sizes=(200, 900), prefix="rec")
    with recall_daemon(world.url(), world.backend) as (_, url):
        with kid.open(f"lfn:{raw[0]},{raw[1]}", recall_url=url, owner="ana") as files:
            assert [p.read_bytes()[:16] for p in files] == [
                (world.root / "OFFLINE" / lfn.lstrip("/")).read_bytes()[:16] for lfn in raw
            ]
            assert all(p.is_relative_to(world.root / "f0a") for p in files)
            assert _pins(world) == 2
            assert _pin_owners(world) == {"ana"}  # named by an on_behalf client
        assert _pins(world) == 0
        # A plain client (not acting for others) names no owner: its requests are its own.
        monkeypatch.setenv("BK_RECALL_TOKEN", ALICE_TOKEN)
        uri = "dbdatarec:run = 22653 and size > 500"
        options = {"engine": world.engine, "backend": world.backend, "recall_url": url}
        with kid.open(uri, **options) as files:  # type: ignore[arg-type]
            assert [p.name for p in files] == [Path(rec[1]).name]
            assert _pins(world) == 1
            assert _pin_owners(world) == {"alice"}
        assert _pins(world) == 0
        with pytest.raises(KidError, match="not recalled"):
            with kid.open("lfn:/kloe/unknown.raw", recall_url=url):
                pass
        assert _pins(world) == 0


def test_file_uris_unknown_schemes_and_plugins(tmp_path: Path) -> None:
    local = tmp_path / "run.dat"
    local.write_bytes(b"events")
    with kid.open(f"file://{local}") as files:
        assert files == [local]
    with pytest.raises(KidError, match="no such local file"):
        with kid.open(f"file:{tmp_path / 'none'}"):
            pass
    with pytest.raises(KidError, match="no KID scheme 'ybos'"):
        with kid.open("ybos:whatever"):
            pass
    with pytest.raises(KidError, match="not a KID URI"):
        with kid.open("no scheme here"):
            pass

    @contextmanager
    def memory(rest: str, scheme: str, options: kid.KidOptions) -> Iterator[list[Path]]:
        yield [tmp_path / rest]

    kid.register_scheme("mem", memory)
    with kid.open("mem:buffer") as files:
        assert files == [tmp_path / "buffer"]
