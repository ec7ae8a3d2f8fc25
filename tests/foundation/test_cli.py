from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bookkeeping import __version__, migrate
from bookkeeping.amga_adapter.engine.passwords import verify_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.cli import main
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import ScratchDatabase


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for variable in ("BK_DATABASE_URL", "BK_ROOT_PASSWORD", "BK_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BK_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"bk, version {__version__}"


def _snapshot(url: str) -> dict[str, Any]:
    """Everything ``bk init`` may create: every table's columns, keys, indexes and
    constraints (by inspection) and every row of every table."""
    engine = create_engine(url)
    try:
        inspector = sa.inspect(engine)
        schema: dict[str, Any] = {}
        rows: dict[str, list[str]] = {}
        with engine.connect() as connection:
            for name in sorted(inspector.get_table_names()):
                schema[name] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in inspector.get_columns(name)
                    ],
                    "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in inspector.get_indexes(name)
                    ),
                    "unique": sorted(
                        (u["name"], tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(name)
                    ),
                    "foreign keys": sorted(
                        (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                        for f in inspector.get_foreign_keys(name)
                    ),
                }
                table = sa.Table(name, sa.MetaData(), autoload_with=connection)
                rows[name] = sorted(repr(tuple(row)) for row in connection.execute(table.select()))
    finally:
        engine.dispose()
    return {"schema": schema, "rows": rows}


def test_init_is_idempotent_on_every_backend(runner: CliRunner, backend: ScratchDatabase) -> None:
    first = runner.invoke(main, ["init", "--db", backend.url], env={"BK_ROOT_PASSWORD": "pw1"})
    assert first.exit_code == 0, first.output
    assert "Created user 'root'" in first.output
    assert "pw1" not in first.output
    before = _snapshot(backend.url)
    second = runner.invoke(main, ["init", "--db", backend.url], env={"BK_ROOT_PASSWORD": "pw2"})
    assert second.exit_code == 0, second.output
    assert "already at revision" in second.output
    assert "left unchanged" in second.output
    after = _snapshot(backend.url)
    # The snapshot sees what init made: the static tables, the revision, root's row.
    assert set(metadata.tables) | {"alembic_version"} <= set(before["schema"])
    assert before["rows"]["alembic_version"] == [repr((migrate.head_revision(),))]
    assert len(before["rows"]["cat_users"]) == 2
    assert after == before
    engine = create_engine(backend.url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as connection:
            rows = connection.execute(sa.select(users.c.name, users.c.password_hash)).all()
    finally:
        engine.dispose()
    hashes = dict(rows)
    assert set(hashes) == {"root", "anonymous"}
    assert verify_password("pw1", hashes["root"])
    assert not verify_password("pw2", hashes["root"])


def test_init_generates_and_prints_a_root_password_once(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    database = tmp_path / "data" / "bookkeeping.sqlite"
    assert str(database) in result.output
    assert database.exists()
    password = result.output.split("(shown only now): ")[1].strip()
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            stored = connection.scalar(
                sa.select(users.c.password_hash).where(users.c.name == "root")
            )
    finally:
        engine.dispose()
    assert verify_password(password, stored)
    again = runner.invoke(main, ["init"])
    assert "shown only now" not in again.output


def test_db_url_masks_the_password(runner: CliRunner) -> None:
    result = runner.invoke(main, ["db", "url", "--db", "postgresql://alice:s3cret@h/bk"])
    assert result.exit_code == 0
    assert result.output.strip() == "postgresql+psycopg://alice:***@h/bk"


def test_db_url_defaults_to_environment_then_default_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    default = runner.invoke(main, ["db", "url"])
    assert default.output.strip() == f"sqlite:///{tmp_path / 'data' / 'bookkeeping.sqlite'}"
    from_env = runner.invoke(main, ["db", "url"], env={"BK_DATABASE_URL": "mariadb://r@h/x"})
    assert from_env.output.strip() == "mysql+pymysql://r@h/x"


def test_bad_database_url_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["init", "--db", "nosuch://x"])
    assert result.exit_code == 2
    assert "--db: unsupported database URL scheme 'nosuch'" in result.output


def test_unreachable_database_is_reported_in_one_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["init", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database is unavailable")
