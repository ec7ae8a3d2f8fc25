"""``bk replication bootstrap / run --once / status`` on two SQLite catalogues."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bootstrap import initialise
from bookkeeping.cli import main
from bookkeeping.engines import create_engine


def test_bootstrap_run_and_status(tmp_path: Path) -> None:
    master_url, slave_url = f"sqlite:///{tmp_path}/m.sqlite", f"sqlite:///{tmp_path}/s.sqlite"
    master = create_engine(master_url)
    initialise(master, root_password="pw")
    initialise(create_engine(slave_url), root_password="pw")
    session = Catalogue(master).session("root")
    session.createdir("/evtTypes")
    session.addattr("/evtTypes", "Desc", "varchar(64)")
    session.addentry("/evtTypes/1", {"Desc": "minbias"})
    runner = CliRunner()
    common = ["--master", master_url, "--db", slave_url]

    result = runner.invoke(main, ["replication", "bootstrap", "/evtTypes", *common])
    assert result.exit_code == 0, result.output
    assert "bootstrapped" in result.output
    session.addentry("/evtTypes/2", {"Desc": "b-physics"})
    result = runner.invoke(main, ["replication", "status", *common], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "/evtTypes" in result.output and "slave" in result.output
    result = runner.invoke(main, ["replication", "run", "--once", "/evtTypes", *common])
    assert result.exit_code == 0, result.output
    assert "applied 1 record(s)" in result.output
    slave = Catalogue(create_engine(slave_url)).session("root")
    assert sorted(slave.getattr("/evtTypes/*", ["Desc"])) == [
        ("1", ["minbias"]),
        ("2", ["b-physics"]),
    ]


def test_errors_are_one_line(tmp_path: Path) -> None:
    slave_url = f"sqlite:///{tmp_path}/s.sqlite"
    initialise(create_engine(slave_url), root_password="pw")
    runner = CliRunner()
    result = runner.invoke(main, ["replication", "run", "--once", "/x", "--db", slave_url])
    assert result.exit_code == 2 and "--master URL" in result.output
    result = runner.invoke(
        main, ["replication", "run", "--once", "/x", "--master", slave_url + "x", "--db", slave_url]
    )
    assert result.exit_code == 1
    assert "has not been bootstrapped" in result.output
    assert "Traceback" not in result.output
