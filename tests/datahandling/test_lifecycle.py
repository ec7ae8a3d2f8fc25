"""The life cycle with real bytes: closing files, and the configured rule deleting the disk
copies of a closed file's inputs (the seed's mc <- mcraw), row first, bytes second."""

from __future__ import annotations

import pytest

from bookkeeping.datahandling.config import CloseRule
from bookkeeping.datahandling.lifecycle import close_files
from bookkeeping.writer.changes import UnknownFile
from bookkeeping.writer.lifecycle import LifeCycleError
from tests.datahandling.conftest import World

MC_RULE = (CloseRule("mc", ("mcraw",)),)


def test_closing_an_mc_file_deletes_its_mcraw_inputs_disk_copies(world: World) -> None:
    world.disk("MCTMP", "mc")
    world.disk("OFFLINE")
    mcraw = world.files(2, se="MCTMP", file_type="MCRAW", prefix="mcraw")
    other = world.files(1, se="MCTMP", file_type="RAW", prefix="raw")
    mc = world.files(1, se="OFFLINE", file_type="MC", state="open", inputs=[*mcraw, *other])
    assert world.bookkeeping.life_cycle(mc) == {mc[0]: "open"}

    outcome = close_files(world.bookkeeping, world.writer, mc, MC_RULE, world.elements)

    assert outcome.closed == 1 and outcome.problems == ()
    assert sorted(c.lfn for c in outcome.deleted) == mcraw
    assert world.bookkeeping.life_cycle(mc) == {mc[0]: "closed"}
    disk = world.elements("MCTMP")
    for lfn in mcraw:
        assert not disk.exists(lfn)
        record = world.bookkeeping.file_by_lfn(lfn)
        assert record is not None and world.bookkeeping.replicas(record.file_id) == ()
    assert disk.exists(other[0])  # not an mcraw file: the rule leaves it
    again = close_files(world.bookkeeping, world.writer, mc, MC_RULE, world.elements)
    assert (again.closed, again.deleted) == (0, ())


def test_without_a_rule_closing_deletes_nothing(world: World) -> None:
    world.disk("OFFLINE")
    raw = world.files(1, se="OFFLINE", file_type="RAW", state="open")
    rec = world.files(1, se="OFFLINE", file_type="DATAREC", state="open", inputs=raw)
    outcome = close_files(world.bookkeeping, world.writer, [*raw, *rec], MC_RULE, world.elements)
    assert (outcome.closed, outcome.deleted) == (2, ())
    assert world.elements("OFFLINE").exists(raw[0])


def test_closing_refuses_unknown_and_archived_files_and_changes_nothing(world: World) -> None:
    world.disk("OFFLINE")
    lfns = world.files(2, se="OFFLINE", state="open")
    with pytest.raises(UnknownFile):
        close_files(world.bookkeeping, world.writer, [*lfns, "/kloe/none"], (), world.elements)
    assert set(world.bookkeeping.life_cycle(lfns).values()) == {"open"}
    world.writer.set_life_cycle(lfns[:1], "closed")
    world.writer.set_life_cycle(lfns[:1], "archived")
    with pytest.raises(LifeCycleError):
        close_files(world.bookkeeping, world.writer, lfns, (), world.elements)
    assert world.bookkeeping.life_cycle(lfns) == {lfns[0]: "archived", lfns[1]: "open"}
    assert world.bookkeeping.files_in_state("open") == (
        (world.bookkeeping.file_by_lfn(lfns[1]).file_id, lfns[1]),  # type: ignore[union-attr]
    )
