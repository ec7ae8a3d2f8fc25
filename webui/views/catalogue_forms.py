"""The catalogue's forms: log in, log out, edit an entry, add an entry. All POSTs carry the
CSRF token; the engine decides whether the user may make the change."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from webui import params
from webui.catalogue_access import USER_KEY, catalogue_session, logged_in
from webui.csrf import check_csrf
from webui.errors import WebError
from webui.state import state
from webui.views.catalogue import pages

blueprint = pages.html  # same endpoint prefix ("catalogue.") as the pages


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not become an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("catalogue.directory")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    from bookkeeping.amga_adapter.errors import AuthenticationFailed

    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("catalogue/login.html", next=next_url, error=None, name="")
    check_csrf()
    name = (params.text(request.form, "user") or "").strip()
    password = params.text(request.form, "password") or ""
    try:
        user = state().catalogue.authenticate(name, password)
    except AuthenticationFailed:
        error = "Unknown user or wrong password."
        return render_template("catalogue/login.html", next=next_url, error=error, name=name), 401
    session.clear()  # a new session (and CSRF token) for the new identity
    session[USER_KEY] = user
    flash(f"Logged in as {user}.")
    return redirect(next_url)


@blueprint.post("/logout")
def logout() -> Response:
    check_csrf()
    session.clear()
    flash("Logged out.")
    return redirect(url_for("catalogue.directory"))


def _form_values(names: list[str]) -> dict[str, object]:
    """The submitted attribute values; an empty field means NULL."""
    values: dict[str, object] = {}
    for name in names:
        raw = params.text(request.form, f"attr:{name}")
        if raw is not None:
            values[name] = raw if raw != "" else None
    return values


def _require_login() -> None:
    if not logged_in():
        raise WebError(401, "log in to change the catalogue")


@blueprint.post("/entry/edit")
def edit_entry() -> Response:
    check_csrf()
    _require_login()
    path = params.text(request.form, "path") or ""
    directory = path.rpartition("/")[0] or "/"
    with catalogue_session() as catalogue:
        names = [name for name, _type in catalogue.listattr(directory)]
        catalogue.setattr(path, _form_values(names))
    flash(f"Saved {path}.")
    return redirect(url_for("catalogue.entry", path=path))


@blueprint.post("/entry/add")
def add_entry() -> Response:
    check_csrf()
    _require_login()
    directory = params.text(request.form, "directory") or "/"
    name = (params.text(request.form, "name") or "").strip()
    if not name or "/" in name:
        raise WebError(422, "an entry name is needed, without '/'", name=name)
    path = directory.rstrip("/") + "/" + name
    with catalogue_session() as catalogue:
        names = [attribute for attribute, _type in catalogue.listattr(directory)]
        values = {key: value for key, value in _form_values(names).items() if value is not None}
        catalogue.addentry(path, values)
    flash(f"Added {path}.")
    return redirect(url_for("catalogue.entry", path=path))
