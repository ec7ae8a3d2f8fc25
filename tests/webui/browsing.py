"""A live server and Chromium pages for the browser tests (marker ``browser``).

Chromium is the Debian package (``apt-get install chromium``; .ci/run installs it), never a
``playwright install`` download."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """``app`` on a free loopback port, in a thread, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def browser_page(browser: Any, base_url: str, viewport: dict[str, int]) -> Iterator[Any]:
    """A fresh context (no cookies) and tab on ``base_url``."""
    context = browser.new_context(base_url=base_url, viewport=viewport, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()
