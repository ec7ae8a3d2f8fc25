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
@click.option("--backend", type=_BACKENDS, default=None,
              help="Which bookkeeping implementation serves the pages "
                   "[default: $BK_BACKEND, as bk ls and bk ingest]")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="gunicorn worker processes (ignored with --debug)")  # fmt: skip
@click.option("--debug", is_flag=True,
              help="Flask's development server: reload on code changes, tracebacks")  # fmt: skip
@report_errors
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    backend: str | None,
    workers: int,
    debug: bool,
) -> None:
    """Serve the web UI with gunicorn (``--workers`` processes, threads in each).

    \b
    Equivalent by hand:
      gunicorn -w 4 -k gthread -b 127.0.0.1:5000 'webui:create_app()'
    """
    from webui import create_app

    backend = backend or settings.backend
    engine_for(settings).dispose()  # a missing SQLite file is refused here, not created
    config = {"DATABASE_URL": settings.resolved_database_url, "BOOKKEEPING_BACKEND": backend}
    host = host or settings.web_host
    port = settings.web_port if port is None else port
    where = f"{mask_url(settings.resolved_database_url)} ({backend}) at http://{host}:{port}/"
    if debug:
        from werkzeug.serving import run_simple

        click.echo(f"Serving {where} with Flask's development server (Ctrl+C to stop)")
        run_simple(host, port, create_app(config), threaded=True, use_reloader=True,
                   use_debugger=True)  # fmt: skip
        return
    # A bad database or setting, or a taken port, fails here with one line, before any
    # worker starts (gunicorn alone would retry the bind for seconds, then exit).
    create_app(config).extensions["bookkeeping"].engine.dispose()
    from webui.serving import check_port_free
    from webui.serving import serve as serve_with_gunicorn

    check_port_free(host, port)

    def announce() -> None:
        click.echo(f"Serving {where} with {workers} gunicorn workers (Ctrl+C to stop)")

    serve_with_gunicorn(lambda: create_app(config), host, port, workers, on_ready=announce)


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
