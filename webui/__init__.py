"""The web UI: the physicists' dataset browser, the catalogue browser and the writer endpoint.

``create_app(config=None)`` is the application factory (``gunicorn 'webui:create_app()'``).
The Flask machinery is imported on first use so that importing ``webui`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Defaults, then the ``BK_*`` settings (database URL, data dir), then ``config``."""
    from webui.app import build_app

    return build_app(config)
