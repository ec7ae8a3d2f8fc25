"""The aggregation service in the web app: ``/graphql`` (with GraphiQL), the search page,
the delivery pages and downloads (``/aggregation/...``) and the WebDAV mount
(``/aggregation/dav/<token>/``).

``init_app(app)`` builds the service from the app's settings (``AGGREGATION_*`` Flask keys,
else ``BK_AGGREGATION_*`` variables; see docs/aggregation.md) and registers everything; the
rest of the web app does not know it exists.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bookkeeping.aggregation.runtime import (
    Aggregation,
    AggregationSettings,
    environment_lookup,
    settings_from,
)
from bookkeeping.config import load_settings

EXTENSION_KEY = "aggregation"


def settings_for(app: Flask) -> AggregationSettings:
    def lookup(key: str) -> Any:
        name = f"AGGREGATION_{key}"
        return app.config[name] if name in app.config else environment_lookup(key)

    return settings_from(lookup, load_settings({}).data_dir)


def aggregation() -> Aggregation:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    from webui.aggregation import dav, graphql_view, pages
    from webui.state import state as web_state

    with app.app_context():
        shared = web_state()
        service = Aggregation(shared.engine, shared.reader, settings_for(app))
    if service.settings.recall == "daemon":
        from bookkeeping.aggregation_recall import DaemonRecaller

        service.recaller_factory = lambda: DaemonRecaller(service.engine, service.reader)
    app.extensions[EXTENSION_KEY] = service
    graphql_view.register(app)
    app.register_blueprint(pages.blueprint)
    dav.mount(app, service)
