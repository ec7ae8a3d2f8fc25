"""One typed settings object, resolved from CLI flags, then environment, then a TOML file.

Precedence (first wins): explicit overrides (CLI flags) > ``BK_*`` environment variables >
the TOML file named by ``--config`` or ``BK_CONFIG`` > built-in defaults.
Every value is parsed and checked here, so a bad value fails early with a message that
names its source (``BK_AMGA_PORT``, ``config.toml: amga_port``, ``--port``) and the fix.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bookkeeping.errors import ConfigError

APP_NAME = "bookkeeping"
DEFAULT_DB_FILENAME = "bookkeeping.sqlite"

# Accepted URL schemes and the SQLAlchemy driver each is normalised to.
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "oracle": "oracle+oracledb",
    "oracle+oracledb": "oracle+oracledb",
}


def default_data_dir() -> Path:
    """Where the default SQLite catalogue lives: ``$BK_DATA_DIR`` or the XDG data dir."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def normalise_database_url(raw: str) -> str:
    """Check a database URL and pin its driver; raise ConfigError naming the problem."""
    text = raw.strip()
    if not text:
        raise ConfigError("database URL is empty")
    if "://" not in text:
        raise ConfigError(
            f"database URL {text!r} has no scheme; write e.g. sqlite:///{text} "
            "or postgresql+psycopg://user@host/db"
        )
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ConfigError(f"database URL {text!r} cannot be parsed: {exc}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ConfigError(
            f"unsupported database URL scheme {url.drivername!r}; use sqlite, "
            "postgresql+psycopg, mysql+pymysql (MariaDB) or oracle+oracledb"
        )
    url = url.set(drivername=driver)
    if driver == "sqlite" and not url.database:
        raise ConfigError("SQLite URL names no file; write sqlite:///path/to/file.sqlite")
    return url.render_as_string(hide_password=False)


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe to print or log)."""
    return make_url(url).render_as_string(hide_password=True)


def _parse_port(text: str) -> int:
    port = _parse_int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"expected a TCP port 1-65535, got {port}")
    return port


def _parse_int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r}") from None


def _parse_positive_int(text: str) -> int:
    value = _parse_int(text)
    if value < 1:
        raise ValueError(f"expected a positive integer, got {value}")
    return value


def _parse_log_level(text: str) -> str:
    level = str(text).strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {text!r}")
    return level


def _parse_optional_str(text: str) -> str | None:
    return str(text) if str(text) != "" else None


def _parse_path(text: str) -> Path:
    if not str(text).strip():
        raise ValueError("expected a directory path, got an empty string")
    return Path(str(text)).expanduser()


def _parse_replicas(text: str) -> tuple[str, ...]:
    """Comma-separated database URLs (each checked like the primary's); may be empty."""
    urls = [part.strip() for part in str(text).split(",") if part.strip()]
    return tuple(normalise_database_url(url) for url in urls)


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(text).split(",") if part.strip())


def _parse_seconds(text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"expected a positive number of seconds, got {value}")
    return value


def _parse_backend(text: str) -> str:
    value = str(text).strip().lower()
    if value not in {"warehouse", "catalogue"}:
        raise ValueError(f"expected 'warehouse' or 'catalogue', got {text!r}")
    return value


def _parse_broker(text: str) -> str:
    value = str(text).strip()
    if value in ("", "database") or value.startswith(("amqp://", "amqps://")):
        return "" if value == "database" else value
    raise ValueError(
        f"expected an amqp:// URL (e.g. amqp://guest:guest@127.0.0.1:5672//) or 'database', "
        f"got {text!r}"
    )


@dataclass(frozen=True)
class Settings:
    """Everything the processes of this project are configured with."""

    database_url: str = ""
    data_dir: Path = field(default_factory=default_data_dir)
    root_password: str | None = None
    log_level: str = "INFO"
    backend: str = "catalogue"
    amga_host: str = "127.0.0.1"
    amga_port: int = 8822
    web_host: str = "127.0.0.1"
    web_port: int = 5000
    pool_size: int = 10
    # Syncat's message broker: an amqp:// URL (RabbitMQ), or "" for the database-backed
    # transport (docs/syncat.md).
    syncat_broker: str = ""
    # How long the relay keeps outbox rows after the broker confirmed them (seconds), for
    # looking back at what was announced; older ones are deleted (docs/syncat.md).
    syncat_outbox_retention_s: float = 7 * 24 * 3600.0
    # Read replicas of the database (docs/replication.md): standbys' URLs, and how far
    # behind the primary one may be before reads stop going to it.
    read_replicas: tuple[str, ...] = ()
    replica_max_lag_s: float = 5.0
    # Server-side federation (docs/replication.md): "/PATH=amga://HOST:PORT/PATH" each.
    amga_mounts: tuple[str, ...] = ()
    # Slave subtrees whose writes the server sends to their master: same form.
    amga_write_forwards: tuple[str, ...] = ()

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///{self.data_dir / DEFAULT_DB_FILENAME}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or self.default_database_url


# field name -> (environment variable, parser); the TOML key is the field name.
_SOURCES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "database_url": ("BK_DATABASE_URL", normalise_database_url),
    "data_dir": ("BK_DATA_DIR", _parse_path),
    "root_password": ("BK_ROOT_PASSWORD", _parse_optional_str),
    "log_level": ("BK_LOG_LEVEL", _parse_log_level),
    "backend": ("BK_BACKEND", _parse_backend),
    "amga_host": ("BK_AMGA_HOST", str),
    "amga_port": ("BK_AMGA_PORT", _parse_port),
    "web_host": ("BK_WEB_HOST", str),
    "web_port": ("BK_WEB_PORT", _parse_port),
    "pool_size": ("BK_POOL_SIZE", _parse_positive_int),
    "syncat_broker": ("BK_SYNCAT_BROKER", _parse_broker),
    "syncat_outbox_retention_s": ("BK_SYNCAT_OUTBOX_RETENTION", _parse_seconds),
    "read_replicas": ("BK_READ_REPLICAS", _parse_replicas),
    "replica_max_lag_s": ("BK_REPLICA_MAX_LAG", _parse_seconds),
    "amga_mounts": ("BK_AMGA_MOUNTS", _parse_list),
    "amga_write_forwards": ("BK_AMGA_WRITE_FORWARDS", _parse_list),
}
assert set(_SOURCES) == {f.name for f in fields(Settings)}
_OTHER_TABLES = frozenset({"datahandling"})
# CLI flags whose spelling differs from "--" + field name.
_FLAGS = {"database_url": "--db"}


def _convert(name: str, raw: Any, source: str) -> Any:
    parser = _SOURCES[name][1]
    if isinstance(raw, list | tuple):  # a TOML array of strings (read_replicas)
        raw = ",".join(str(item) for item in raw)
    try:
        return parser(raw if isinstance(raw, str) else str(raw))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    # Other packages' tables (``[datahandling]``) share the file; they read their own.
    table = data.get("bookkeeping", {k: v for k, v in data.items() if k not in _OTHER_TABLES})
    unknown = sorted(set(table) - set(_SOURCES))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_SOURCES))}"
        )
    return table


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve settings; ``overrides`` are CLI flags (None means "not given")."""
    env = os.environ if environ is None else environ
    if config_file is None and env.get("BK_CONFIG"):
        config_file = Path(env["BK_CONFIG"]).expanduser()
    values: dict[str, Any] = {}
    if config_file is not None:
        for name, raw in _read_toml(config_file).items():
            values[name] = _convert(name, raw, f"{config_file}: {name}")
    for name, (variable, _parser) in _SOURCES.items():
        if variable in env:
            values[name] = _convert(name, env[variable], variable)
    for name, raw in (overrides or {}).items():
        if name not in _SOURCES:
            raise ConfigError(f"unknown setting {name!r}")
        if raw is not None:
            flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
            values[name] = _convert(name, raw, flag)
    return replace(Settings(), **values)
