"""The catalogue's schema forms, as in AMGA's manager GUI: add an attribute (name and type),
remove one, create a sub-directory. Each POST carries the CSRF token and needs a login;
the engine checks the rights and the names and types, and a refused change changes nothing.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from webui import params
from webui.catalogue_access import catalogue_session
from webui.csrf import check_csrf
from webui.errors import WebError
from webui.views.catalogue import pages
from webui.views.catalogue_forms import form_directory, form_name, require_login

blueprint = pages.html  # same endpoint prefix ("catalogue.") as the pages

# Offered in the form (a datalist); the engine accepts every AMGA type (numeric(p,s), ...).
SUGGESTED_TYPES = ("int", "bigint", "float", "double", "varchar(255)", "text", "timestamp",
                   "date", "time")  # fmt: skip


def _back_to(directory: str) -> Response:
    return redirect(url_for("catalogue.directory", path=directory))


@blueprint.post("/attribute/add")
def add_attribute() -> Response:
    check_csrf()
    require_login()
    directory = form_directory()
    name = form_name("name", "attribute")
    type_ = (params.text(request.form, "type") or "").strip()
    if not type_:
        raise WebError(422, "an attribute type is needed (e.g. int or varchar(255))",
                       field="type")  # fmt: skip
    with catalogue_session() as catalogue:
        catalogue.addattr(directory, name, type_)
    flash(f"Added the attribute {name} ({type_}) to {directory}.")
    return _back_to(directory)


@blueprint.post("/attribute/remove")
def remove_attribute() -> Response:
    check_csrf()
    require_login()
    directory = form_directory()
    name = form_name("name", "attribute")
    force = request.form.get("force") == "yes"
    with catalogue_session() as catalogue:
        catalogue.removeattr(directory, name, force=force)
    flash(f"Removed the attribute {name} from {directory}.")
    return _back_to(directory)


@blueprint.post("/directory/create")
def create_directory() -> Response:
    check_csrf()
    require_login()
    parent = form_directory()
    name = form_name("name", "directory")
    path = parent.rstrip("/") + "/" + name
    with catalogue_session() as catalogue:
        catalogue.createdir(path)
    flash(f"Created the directory {path}.")
    return _back_to(path)
