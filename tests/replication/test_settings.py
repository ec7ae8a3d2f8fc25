"""``BK_READ_REPLICAS`` and the config file's ``read_replicas``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookkeeping.config import load_settings
from bookkeeping.errors import ConfigError

A = "postgresql+psycopg://reader@10.0.0.2/bk"
B = "postgresql+psycopg://reader@10.0.0.3/bk"


def test_replicas_come_comma_separated_from_the_environment() -> None:
    settings = load_settings(environ={"BK_READ_REPLICAS": f" {A} ,{B},"})
    assert settings.read_replicas == (A, B)
    assert load_settings(environ={}).read_replicas == ()


def test_replicas_come_as_a_list_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bk.toml"
    config.write_text(f'read_replicas = ["{A}", "postgresql://reader@10.0.0.3/bk"]\n')
    config.write_text(config.read_text() + "replica_max_lag_s = 2.5\n")
    settings = load_settings(environ={}, config_file=config)
    assert settings.read_replicas == (A, B)
    assert settings.replica_max_lag_s == 2.5


def test_a_bad_replica_url_is_named_with_its_source() -> None:
    with pytest.raises(ConfigError, match="BK_READ_REPLICAS: .*'reader-host' has no scheme"):
        load_settings(environ={"BK_READ_REPLICAS": f"{A},reader-host"})
    with pytest.raises(ConfigError, match="BK_REPLICA_MAX_LAG: expected a positive number"):
        load_settings(environ={"BK_REPLICA_MAX_LAG": "0"})
