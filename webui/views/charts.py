"""Events, bytes and files per file type or per production, as server-side SVG."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from bookkeeping.interface import Level
from webui import params
from webui.errors import WebError
from webui.state import reader
from webui.svg import LAYOUTS, bar_chart

blueprint = Blueprint("charts", __name__)

METRICS = ("events", "bytes", "files")
GROUPINGS = {"filetype": Level.FILE_TYPE, "production": Level.PRODUCTION}
_FILE_TYPE_DEPTH = 5  # the path must reach the event type to chart its file types
_TITLES = {"filetype": "file type", "production": "production"}


@blueprint.get("/chart.svg")
def chart() -> Response:
    selection = params.dataset_path(request.args)
    metric = params.choice(request.args, "metric", METRICS, "events")
    by = params.choice(request.args, "by", tuple(GROUPINGS), "filetype")
    layout = params.choice(request.args, "layout", LAYOUTS, "wide")
    if by == "filetype":
        if selection.depth < _FILE_TYPE_DEPTH:
            raise WebError(400, "charts per file type need the path down to the event type")
        selection = selection.prefix(_FILE_TYPE_DEPTH)
    values = reader().level_values(GROUPINGS[by], selection.path)
    items = [(str(item.value), int(getattr(item, metric))) for item in values]
    title = f"{metric.capitalize()} per {_TITLES[by]}"
    svg = render_template("chart.svg", chart=bar_chart(title, items, unit=metric, layout=layout))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
