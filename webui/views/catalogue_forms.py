"""The catalogue's forms: log in, log out, edit, add and delete an entry (the schema's
forms are in ``catalogue_schema``). All POSTs carry the CSRF token; the engine decides
whether the user may make the change, and a refused change changes nothing."""

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
    from bookkeeping.amga_adapter.engine.errors import AuthenticationFailed

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


def require_login() -> None:
    if not logged_in():
        raise WebError(401, "log in to change the catalogue")


def form_name(field: str, kind: str) -> str:
    """A name from the form (``kind``: entry, directory or attribute), stripped and checked
    by the engine's rules before it becomes part of a path."""
    from bookkeeping.amga_adapter.engine import paths

    name = (params.text(request.form, field) or "").strip()
    if not name:
        article = "an" if kind[0] in "aeiou" else "a"
        raise WebError(422, f"{article} {kind} name is needed", field=field)
    if kind == "attribute":
        return paths.check_attribute_name(name)
    return paths.check_name(kind, name)


def form_directory(field: str = "directory") -> str:
    directory = params.text(request.form, field) or ""
    if not directory.startswith("/"):
        raise WebError(422, "an absolute directory path is needed", field=field)
    return directory


@blueprint.post("/entry/edit")
def edit_entry() -> Response:
    check_csrf()
    require_login()
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
    require_login()
    directory = form_directory()
    name = form_name("name", "entry")
    path = directory.rstrip("/") + "/" + name
    with catalogue_session() as catalogue:
        names = [attribute for attribute, _type in catalogue.listattr(directory)]
        values = {key: value for key, value in _form_values(names).items() if value is not None}
        catalogue.addentry(path, values)
    flash(f"Added {path}.")
    return redirect(url_for("catalogue.entry", path=path))


@blueprint.post("/entry/delete")
def delete_entry() -> Response:
    from bookkeeping.amga_adapter.engine.paths import require_single

    check_csrf()
    require_login()
    path = params.text(request.form, "path") or ""
    if not path.startswith("/") or path.endswith("/"):
        raise WebError(422, "the absolute path of one entry is needed", field="path")
    if request.form.get("confirm") != "yes":
        raise WebError(422, "tick the box to confirm the deletion", field="confirm")
    directory = path.rpartition("/")[0] or "/"
    with catalogue_session() as catalogue:
        catalogue.rm(require_single(path))  # a pattern would remove every writable match
    flash(f"Deleted {path}.")
    return redirect(url_for("catalogue.directory", path=directory))
