"""``bk file close`` with rules from the settings file; bad rules named; usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main
from tests.datahandling.conftest import World


@pytest.mark.parametrize("world", ["catalogue"], indirect=True)
def test_file_close_applies_the_configured_rule(world: World, tmp_path: Path) -> None:
    world.disk("MCTMP", "mc")
    sim = world.files(2, se="MCTMP", file_type="SIM", prefix="sim")
    dst = world.files(1, se="MCTMP", file_type="MCDST", state="open", inputs=sim, prefix="dst")
    config = tmp_path / "bk.toml"
    config.write_text('[[datahandling.rules]]\nclosed = "mcdst"\ndelete_inputs = ["sim"]\n')
    runner = CliRunner()
    arguments = ["--config", str(config), "file", "close", *dst, "--db", world.url()]
    done = runner.invoke(main, [*arguments, "--backend", world.backend])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == f"{world.backend}: 1 of 1 files closed"
    assert sorted(lines[1:]) == [
        f"{world.backend}: deleted the disk copy of {lfn} (MCTMP:{lfn})" for lfn in sim
    ]
    assert not any(world.elements("MCTMP").exists(lfn) for lfn in sim)
    assert world.bookkeeping.life_cycle(dst) == {dst[0]: "closed"}

    config.write_text('[[datahandling.rules]]\nclosed = "mcdst"\n')
    bad = runner.invoke(main, [*arguments, "--backend", world.backend])
    assert bad.exit_code == 1 and "needs exactly the keys closed and delete_inputs" in bad.output
    config.write_text("[datahandling]\nflush_files = -1\n")
    bad = runner.invoke(main, [*arguments, "--backend", world.backend])
    assert bad.exit_code == 1 and "flush_files must be a non-negative int" in bad.output
    unknown = runner.invoke(main, ["file", "close", "/kloe/none", "--db", world.url(),
                                   "--backend", world.backend])  # fmt: skip
    assert unknown.exit_code == 1 and "/kloe/none" in unknown.output
    assert runner.invoke(main, ["file", "close", "--db", world.url()]).exit_code == 2
