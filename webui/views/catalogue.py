"""The catalogue browser (AMGA's manager GUI on the web): directory tree, attributes with
types, entries with paging, one entry, and the query box. Every read goes through a
catalogue session of the browsing user, so the engine filters what each user sees."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from flask import current_app, request

from webui import params
from webui.catalogue_access import catalogue_session, current_user, logged_in
from webui.catalogue_rights import rights
from webui.errors import bad_parameter
from webui.pages import Pages, Param
from webui.plain import plain

pages = Pages("catalogue", url_prefix="/catalogue")

MAX_TREE_DEPTH = 12
PATH = Param("path", "Absolute catalogue path (default /)")
PAGE = Param("page", "Page number, from 1", "integer")
SORT = Param("sort", "Order entries by this attribute (by its declared type) or by name (default)")
ORDER = Param("order", "Sort direction", enum=("asc", "desc"))


def _path(name: str = "path") -> str:
    raw = params.text(request.args, name, "/") or "/"
    if not raw.startswith("/"):
        raise bad_parameter(name, "must be an absolute path (start with /)", raw)
    return "/" + raw.strip("/") if raw != "/" else "/"


def _page() -> tuple[int, int]:
    page = params.integer(request.args, "page", 1, minimum=1, maximum=10**9) or 1
    return page, current_app.config["CATALOGUE_PAGE_SIZE"]


def _window(rows: Iterator[Any], page: int, per_page: int) -> tuple[list[Any], bool]:
    """One page of a streamed result and whether more follow; the stream is closed."""
    try:
        taken = list(itertools.islice(rows, (page - 1) * per_page, page * per_page + 1))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    return taken[:per_page], len(taken) > per_page


def _parents(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _subdirectories(session: Any, path: str) -> list[str]:
    listing = session.dir(path)
    try:
        return [p for p, kind in itertools.takewhile(lambda x: x[1] == "collection", listing)]
    finally:
        listing.close()


def _tree(session: Any, path: str) -> list[dict[str, Any]]:
    """The directories from / down to ``path``, each with its readable sub-directories."""
    from bookkeeping.amga_adapter.engine.errors import PermissionDenied

    levels = []
    for parent in _parents(path)[:MAX_TREE_DEPTH]:
        try:
            children = _subdirectories(session, parent)
        except PermissionDenied:
            children = []
        levels.append({"path": parent, "children": children})
    return levels


def _entry_pattern(path: str) -> str:
    return path.rstrip("/") + "/*"


def _user() -> dict[str, Any]:
    return {"name": current_user(), "logged_in": logged_in()}


# Every catalogue page answers 401 for an unknown token (or a removed user) and 403 for a
# path the user may not read.
ACCESS_ERRORS = (401, 403)


def _sort(attributes: list[tuple[str, str]]) -> tuple[str, str]:
    """The ``sort`` attribute (one of the directory's, or ``name``) and ``order``."""
    by = params.text(request.args, "sort", "name") or "name"
    if by != "name" and by not in {name for name, _type in attributes}:
        raise bad_parameter("sort", "is not an attribute of this directory (nor name)", by)
    order = params.text(request.args, "order", "asc") or "asc"
    if order not in ("asc", "desc"):
        raise bad_parameter("order", "must be asc or desc", order)
    return by, order


def _sorted_entries(
    session: Any, path: str, names: list[str], by: str, order: str
) -> Iterator[Any]:
    """(name, values) of the readable entries, ordered in the database by the column of
    the attribute's declared type (an int sorts 9 before 10, a timestamp by time, where
    sorting the shown text would not); ties and the default by entry name."""
    if by == "name" and order == "asc":
        return session.getattr(_entry_pattern(path), names)
    session.cd(path)
    key = "FILE" if by == "name" else by
    return _as_entries(session.selectattr(["FILE", *names], f"order by {key} {order}, FILE"))


def _as_entries(rows: Iterator[Any]) -> Iterator[tuple[str, list[Any]]]:
    """selectattr's (FILE, *values) rows as getattr's (name, values); closing this closes
    the stream (``_window`` closes what it reads)."""
    try:
        for row in rows:
            yield row[0].rsplit("/", 1)[-1], list(row[1:])
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


@pages.page("/", "catalogue/directory.html", "A catalogue directory: tree, attributes, entries",
            (PATH, PAGE, SORT, ORDER), response="CatalogueDirectory",
            errors=ACCESS_ERRORS)  # fmt: skip
def directory() -> dict[str, Any]:
    path = _path()
    page, per_page = _page()
    with catalogue_session() as session:
        attributes = session.listattr(path)
        names = [name for name, _type in attributes]
        by, order = _sort(attributes)
        subdirectories = _subdirectories(session, path)
        rows, more = _window(_sorted_entries(session, path, names, by, order), page, per_page)
        tree = _tree(session, path)
        may = rights(session, path)
    entries = [
        {"name": name, "path": path.rstrip("/") + "/" + name, "values": plain(values)}
        for name, values in rows
    ]
    return {
        "path": path,
        "parents": _parents(path),
        "user": _user(),
        "rights": may.as_data(),
        "tree": tree,
        "subdirectories": subdirectories,
        "attributes": [{"name": name, "type": type_} for name, type_ in attributes],
        "entries": entries,
        "paging": {"page": page, "per_page": per_page, "more": more},
        "sort": {"by": by, "order": order},
    }


@pages.page("/entry", "catalogue/entry.html", "One catalogue entry and its attributes",
            (Param("path", "Absolute path of the entry", required=True),),
            response="CatalogueEntry", errors=ACCESS_ERRORS)  # fmt: skip
def entry() -> dict[str, Any]:
    path = _path()
    directory_path, _, name = path.rpartition("/")
    directory_path = directory_path or "/"
    if not name:
        raise bad_parameter("path", "names a directory, not an entry", path)
    with catalogue_session() as session:
        attributes = session.listattr(directory_path)
        names = [attribute for attribute, _type in attributes]
        rows = list(session.getattr(path, names))
        may = rights(session, directory_path, name)
    values = plain(rows[0][1]) if rows else []
    return {
        "path": path,
        "directory": directory_path,
        "name": name,
        "parents": _parents(directory_path),
        "user": _user(),
        "rights": may.as_data(),
        "attributes": [
            {"name": attribute, "type": type_, "value": value}
            for (attribute, type_), value in zip(attributes, values, strict=True)
        ],
    }


QUERY_PARAMS = (
    Param("dir", "Directory the bare attribute names refer to (default /)"),
    Param("items", "What to select, as in selectattr (default: FILE and every attribute)"),
    Param("where", "Condition in the AMGA query language"),
    PAGE,
)


def _split_items(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


@pages.page("/query", "catalogue/query.html",
            "Run an AMGA query (selectattr items and a condition) as the logged-in user",
            QUERY_PARAMS, response="CatalogueQuery", errors=ACCESS_ERRORS)  # fmt: skip
def query() -> dict[str, Any]:
    from bookkeeping.amga_adapter.query import QueryError

    directory_path = _path("dir")
    items_text = params.text(request.args, "items", "") or ""
    where = params.text(request.args, "where", "") or ""
    page, per_page = _page()
    data: dict[str, Any] = {
        "dir": directory_path, "items": items_text, "where": where, "user": _user(),
        "columns": [], "rows": [], "paging": {"page": page, "per_page": per_page, "more": False},
        "error": None, "ran": "where" in request.args or "items" in request.args,
    }  # fmt: skip
    if not data["ran"]:
        return data
    with catalogue_session() as session:
        session.cd(directory_path)
        items = _split_items(items_text) or ["FILE"] + [n for n, _t in session.listattr(".")]
        try:
            rows, more = _window(session.selectattr(items, where), page, per_page)
        except QueryError as exc:
            data["error"] = {
                "status": 400,
                "message": exc.problem,
                "details": {
                    "code": exc.code, "error": type(exc).__name__, "position": exc.position,
                    "line": exc.line, "column": exc.column,
                    "in": "where" if exc.text == where else "items", "text": exc.text,
                },
            }  # fmt: skip
            return data
    data.update(columns=items, rows=plain(rows))
    data["paging"]["more"] = more
    return data
