"""``bk web serve`` and ``bk token create/revoke``: the web UI and its API tokens."""

from __future__ import annotations

import click

from bookkeeping.cli.common import db_option, engine_for, report_errors
from bookkeeping.config import Settings, mask_url

_BACKENDS = click.Choice(["warehouse", "catalogue"])


@click.group()
def web() -> None:
    """The web UI: dataset browser, catalogue browser, JSON API."""


@web.command("serve")
@db_option
@click.option(
    "--host", default=None, help="Address to listen on [default: $BK_WEB_HOST or 127.0.0.1]"
)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="TCP port [default: $BK_WEB_PORT or 5000]")  # fmt: skip
@click.option("--backend", type=_BACKENDS, default="warehouse", show_default=True,
              help="Which bookkeeping implementation serves the pages")  # fmt: skip
@click.option("--debug", is_flag=True, help="Reload on code changes, show tracebacks")
@report_errors
def serve(
    settings: Settings, host: str | None, port: int | None, backend: str, debug: bool
) -> None:
    """Serve the web UI with the development server (threaded).

    In production use gunicorn (see docs/webui.md):

    \b
      gunicorn -w 4 -b 127.0.0.1:5000 'webui:create_app()'
    """
    from werkzeug.serving import run_simple

    from webui import create_app

    app = create_app(
        {"DATABASE_URL": settings.resolved_database_url, "BOOKKEEPING_BACKEND": backend}
    )
    host = host or settings.web_host
    port = settings.web_port if port is None else port
    click.echo(
        f"Serving {mask_url(settings.resolved_database_url)} ({backend}) "
        f"at http://{host}:{port}/  (Ctrl+C to stop)"
    )
    run_simple(host, port, app, threaded=True, use_reloader=debug, use_debugger=debug)


@click.group()
def token() -> None:
    """API tokens for POST /api/v1/jobs (the production writer endpoint)."""


@token.command("create")
@db_option
@click.argument("user")
@report_errors
def token_create(settings: Settings, user: str) -> None:
    """Create a token for USER (a catalogue user) and print it; it is shown only now."""
    from webui.tokens import create_token

    engine = engine_for(settings)
    try:
        click.echo(create_token(engine, user))
    finally:
        engine.dispose()


@token.command("revoke")
@db_option
@click.argument("user")
@report_errors
def token_revoke(settings: Settings, user: str) -> None:
    """Remove every token of USER."""
    from webui.tokens import revoke_tokens

    engine = engine_for(settings)
    try:
        count = revoke_tokens(engine, user)
    finally:
        engine.dispose()
    click.echo(f"Revoked {count} token{'' if count == 1 else 's'} of {user}.")
