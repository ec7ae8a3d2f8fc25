from __future__ import annotations

from pathlib import Path

import pytest

from bookkeeping.config import load_settings, mask_url, normalise_database_url
from bookkeeping.errors import ConfigError


def test_defaults_use_an_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"BK_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'bookkeeping.sqlite'}"
    assert settings.amga_port == 8822


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    config = tmp_path / "bk.toml"
    config.write_text('amga_port = 9000\nweb_port = 9001\nlog_level = "debug"\n')
    settings = load_settings(
        {"amga_port": "9100", "web_port": None},
        environ={"BK_AMGA_PORT": "9200", "BK_WEB_PORT": "9201"},
        config_file=config,
    )
    assert settings.amga_port == 9100
    assert settings.web_port == 9201
    assert settings.log_level == "DEBUG"


def test_config_file_may_use_a_bookkeeping_table(tmp_path: Path) -> None:
    config = tmp_path / "bk.toml"
    config.write_text('[bookkeeping]\ndatabase_url = "postgresql://u@h/db"\n')
    settings = load_settings(environ={}, config_file=config)
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"BK_AMGA_PORT": "eighty"}, "BK_AMGA_PORT: expected an integer, got 'eighty'"),
        ({"BK_WEB_PORT": "70000"}, "BK_WEB_PORT: expected a TCP port 1-65535, got 70000"),
        ({"BK_DATABASE_URL": "ftp://x/y"}, "unsupported database URL scheme 'ftp'"),
        ({"BK_DATABASE_URL": "/tmp/x.sqlite"}, "has no scheme"),
        ({"BK_LOG_LEVEL": "loud"}, "BK_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR"),
        ({"BK_BACKEND": "oracle"}, "expected 'warehouse' or 'catalogue'"),
        ({"BK_POOL_SIZE": "0"}, "BK_POOL_SIZE: expected a positive integer, got 0"),
    ],
)
def test_bad_values_name_their_source_and_problem(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ=environ)
    assert fragment in str(excinfo.value)


def test_unknown_key_in_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bk.toml"
    config.write_text("amga_prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting.*amga_prot"):
        load_settings(environ={}, config_file=config)


def test_invalid_toml_and_missing_file_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("amga_port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={}, config_file=bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={}, config_file=tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("mariadb://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        ("mysql://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        (
            "oracle://scott:tiger@h/?service_name=x",
            "oracle+oracledb://scott:tiger@h/?service_name=x",
        ),
        ("sqlite:///a/b.sqlite", "sqlite:///a/b.sqlite"),
    ],
)
def test_urls_are_pinned_to_our_drivers(raw: str, expected: str) -> None:
    assert normalise_database_url(raw) == expected


def test_sqlite_url_without_file_is_rejected() -> None:
    with pytest.raises(ConfigError, match="names no file"):
        normalise_database_url("sqlite://")


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql+psycopg://alice:s3cret@db.example/bk")
    assert "s3cret" not in masked
    assert masked == "postgresql+psycopg://alice:***@db.example/bk"
