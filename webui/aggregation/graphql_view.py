"""``/graphql``: strawberry's Flask view with our context, and GraphiQL from local assets.

Strawberry's own GraphiQL page loads React and GraphiQL from a CDN, which a site behind a
firewall (and this project's machines) cannot reach; ours serves the same pinned versions
from ``webui/static/graphiql/`` (see the README there) with a start script of our own, so
the page's Content-Security-Policy allows scripts from this site only.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, render_template, url_for
from strawberry.flask.views import GraphQLView

from bookkeeping.aggregation.deliveries import Delivery
from bookkeeping.aggregation.schema import AggregationContext, build_schema
from webui.aggregation import aggregation
from webui.aggregation.identity import requester, rights

GRAPHIQL_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src data:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def delivery_urls(token: str) -> tuple[str, str, str]:
    return (
        url_for("aggregation.delivery_directory", token=token, _external=True),
        url_for("aggregation.delivery_archive", token=token, _external=True),
        url_for("aggregation.delivery_directory", token=token, _external=True).replace(
            "/aggregation/deliveries/", "/aggregation/dav/"
        ),
    )


class AggregationGraphQLView(GraphQLView):
    def get_context(self, request: Request, response: Response) -> Any:
        service = aggregation()
        user, logged_in = requester()

        def queued(delivery: Delivery) -> None:
            service.queued(delivery)

        return AggregationContext(
            user=user,
            logged_in=logged_in,
            reader=service.reader,
            searches=service.searches,
            deliveries=service.deliveries,
            delivery_urls=delivery_urls,
            on_queued=queued,
            rights=lambda path: rights(user, path),
            storage_elements=service.storage_elements,
        )

    def render_graphql_ide(self, request: Request) -> Response:
        response = Response(render_template("aggregation/graphiql.html"), content_type="text/html")
        response.headers["Content-Security-Policy"] = GRAPHIQL_POLICY
        return response


def register(app: Flask) -> None:
    view = AggregationGraphQLView.as_view("graphql", schema=build_schema())
    app.add_url_rule("/graphql", view_func=view, methods=["GET", "POST"])
