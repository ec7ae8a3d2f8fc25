"""``bk user``, ``bk group`` and ``bk acl``: catalogue administration.

These commands talk to the database directly, so whoever runs them acts as ``root``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bootstrap import ROOT_USER
from bookkeeping.cli.common import db_option, engine_for, fail, report_errors
from bookkeeping.config import Settings


@contextmanager
def _catalogue(settings: Settings) -> Iterator[Catalogue]:
    engine = engine_for(settings)
    try:
        yield Catalogue(engine)
    finally:
        engine.dispose()


def _print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=True).print(table)


@click.group()
def user() -> None:
    """Catalogue users."""


@user.command("add")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (never from the command "
    "line, where other users could see it). Without it the user has no password login.",
)
@click.option("--dn", default=None, help="Certificate subject DN for certificate logins.")
@click.option("--group", "groups", multiple=True, help="Add the user to this group (repeatable).")
@db_option
@report_errors
def user_add(
    settings: Settings, name: str, password_stdin: bool, dn: str | None, groups: tuple[str, ...]
) -> None:
    """Add the catalogue user NAME."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input held no password")
    with _catalogue(settings) as catalogue:
        catalogue.add_user(ROOT_USER, name, password, dn=dn, groups=groups)
    click.echo(f"Added user '{name}'.")


@user.command("passwd")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the first line of standard input (else it is asked "
    "for, twice, without echo).",
)
@click.option("--remove", is_flag=True, help="Remove the password: no password login.")
@db_option
@report_errors
def user_passwd(settings: Settings, name: str, password_stdin: bool, remove: bool) -> None:
    """Set (or --remove) the password of the catalogue user NAME."""
    password: str | None = None
    if password_stdin and remove:
        raise click.UsageError("--password-stdin and --remove exclude each other")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input held no password")
    elif not remove:
        password = click.prompt(
            f"New password for {name}", hide_input=True, confirmation_prompt=True
        )
    with _catalogue(settings) as catalogue:
        catalogue.set_password(ROOT_USER, name, password)
    click.echo(f"{'Removed' if remove else 'Changed'} the password of '{name}'.")


@user.command("list")
@db_option
@report_errors
def user_list(settings: Settings) -> None:
    """List the catalogue users, their groups and how they log in."""
    with _catalogue(settings) as catalogue:
        users = catalogue.list_users(ROOT_USER)
    rows = [
        [u.name, ",".join(u.groups), "yes" if u.has_password else "no", u.dn or ""] for u in users
    ]
    _print_table("Catalogue users", ["user", "groups", "password", "certificate DN"], rows)


@click.group()
def group() -> None:
    """Catalogue groups."""


@group.command("add")
@click.argument("name")
@db_option
@report_errors
def group_add(settings: Settings, name: str) -> None:
    """Add the catalogue group NAME."""
    with _catalogue(settings) as catalogue:
        catalogue.add_group(ROOT_USER, name)
    click.echo(f"Added group '{name}'.")


@click.group()
def acl() -> None:
    """Directory access control lists.

    PRINCIPAL is a user name, group:NAME for a group, or system:anyuser for everybody
    (anonymous included); RIGHTS are letters of r (read), w (write), x (enter), e.g. rx.
    """


def _acl_change(verb: str) -> Callable[..., None]:
    @click.argument("path")
    @click.argument("principal")
    @click.argument("rights")
    @db_option
    @report_errors
    def change(settings: Settings, path: str, principal: str, rights: str) -> None:
        with _catalogue(settings) as catalogue:
            session = catalogue.session(ROOT_USER)
            getattr(session, f"acl_{verb}")(path, principal, rights)
        click.echo(
            f"{verb.capitalize()}ed {rights} on {path} to {principal}."
            if verb == "grant"
            else f"Revoked {rights} on {path} from {principal}."
        )

    change.__doc__ = f"{verb.capitalize()} RIGHTS on the directory PATH to PRINCIPAL."
    return change


acl.command("grant")(_acl_change("grant"))
acl.command("revoke")(_acl_change("revoke"))


@acl.command("show")
@click.argument("path")
@db_option
@report_errors
def acl_show(settings: Settings, path: str) -> None:
    """Show the ACL of the directory PATH."""
    with _catalogue(settings) as catalogue:
        entries = catalogue.session(ROOT_USER).acl_show(path)
    _print_table(f"ACL of {path}", ["principal", "rights"], [list(e) for e in entries])
