"""Web UI settings: defaults, the project's ``BK_*`` settings, then explicit overrides.

Keys (Flask config): ``DATABASE_URL``, ``BOOKKEEPING_BACKEND`` (``warehouse`` or
``catalogue``), ``SECRET_KEY``, ``PAGE_SIZE``, ``MAX_PAGE_SIZE``, ``READ_REPLICAS`` and
``REPLICA_MAX_LAG`` (docs/replication.md), ``RECALL_URL`` and ``RECALL_TOKEN`` (the recall
daemon and this web UI's token there; default ``$BK_RECALL_URL``, ``$BK_RECALL_TOKEN``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bookkeeping.config import load_settings
from bookkeeping.errors import ConfigError

DEFAULT_BACKEND = "warehouse"
SECRET_KEY_FILENAME = "web-secret-key"
SECRET_KEY_VARIABLE = "BK_WEB_SECRET_KEY"

DEFAULTS: dict[str, Any] = {
    "BOOKKEEPING_BACKEND": DEFAULT_BACKEND,
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 1000,
    "SEARCH_LIMIT": 100,  # results per kind and page of the search
    "SEARCH_COUNT_LIMIT": 10_000,  # files counted for a search total (beyond: "at least")
    "RELATIVES_DEPTH": 3,
    "CATALOGUE_PAGE_SIZE": 50,
    # The data-quality flags the dataset page offers as a facet (group DQ).
    "DQ_FLAGS": ("OK", "BAD", "UNCHECKED"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "READ_REPLICAS": (),
    "REPLICA_MAX_LAG": 5.0,
    # Recalls from the web (docs/datahandling.md): the daemon, the token this web UI
    # presents there (a client configured on_behalf), the lease of the pins it asks for,
    # and the most files of a selection looked through for tape-only files.
    "RECALL_URL": None,
    "RECALL_TOKEN": None,
    "RECALL_LEASE": 24 * 3600,
    "RECALL_MAX_FILES": 10_000,
}


def persistent_secret_key(data_dir: Path) -> str:
    """A secret kept in the data directory, so that session cookies survive restarts and
    are shared by every gunicorn worker; created (mode 0600) on first use."""
    path = data_dir / SECRET_KEY_FILENAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def resolve_config(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    overrides = dict(overrides or {})
    if "DATABASE_URL" not in overrides or "SECRET_KEY" not in overrides:
        settings = load_settings({})
        config["DATABASE_URL"] = settings.resolved_database_url
        config["READ_REPLICAS"] = settings.read_replicas
        config["REPLICA_MAX_LAG"] = settings.replica_max_lag_s
        if os.environ.get(SECRET_KEY_VARIABLE):
            config["SECRET_KEY"] = os.environ[SECRET_KEY_VARIABLE]
        elif "SECRET_KEY" not in overrides:
            config["SECRET_KEY"] = persistent_secret_key(settings.data_dir)
    for key, variable in (("RECALL_URL", "BK_RECALL_URL"), ("RECALL_TOKEN", "BK_RECALL_TOKEN")):
        if key not in overrides and os.environ.get(variable):
            config[key] = os.environ[variable]
    config.update(overrides)
    if config["BOOKKEEPING_BACKEND"] not in ("warehouse", "catalogue"):
        raise ConfigError(
            f"unknown BOOKKEEPING_BACKEND {config['BOOKKEEPING_BACKEND']!r}; "
            "use 'warehouse' or 'catalogue'"
        )
    return config
