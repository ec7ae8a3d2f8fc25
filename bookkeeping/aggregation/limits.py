"""Depth and cost limits of GraphQL documents, as strawberry schema extensions.

Depth is strawberry's ``QueryDepthLimiter`` (introspection fields are not counted: the
standard introspection query nests ``ofType`` eight deep). Cost is a validation rule of our
own: every field costs 1, a search costs ``SEARCH_COST`` plus its page size over ten (a page
size given as a variable counts as the largest allowed) and a field that streams a dataset
(``dqFlags``) costs ``STREAM_COST``; a document over ``max_cost`` is refused before it runs,
with an error naming its cost and the limit.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    IntValueNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, QueryDepthLimiter
from strawberry.extensions.query_depth_limiter import IgnoreContext

from bookkeeping.aggregation.service import DEFAULT_PAGE, MAX_PAGE

MAX_DEPTH = 8
MAX_COST = 1000
SEARCH_COST = 50
STREAM_COST = 100
STREAMING_FIELDS = frozenset({"dqFlags"})


def _first(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            return MAX_PAGE
    return DEFAULT_PAGE


def field_cost(node: FieldNode) -> int:
    name = node.name.value
    if name == "search":
        return SEARCH_COST + _first(node) // 10
    if name in STREAMING_FIELDS:
        return STREAM_COST
    return 1


def cost_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.cost = 0
            self.reported = False

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.name.value.startswith("__"):
                return
            self.cost += field_cost(node)
            if self.cost > max_cost and not self.reported:
                self.reported = True
                self.report_error(
                    GraphQLError(
                        f"query cost over the limit of {max_cost} (a search costs "
                        f"{SEARCH_COST} plus first/10, dqFlags {STREAM_COST}, any other "
                        "field 1); ask for fewer fields or smaller pages",
                        node,
                    )
                )

    return CostLimit


def _is_introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


def extensions(max_depth: int = MAX_DEPTH, max_cost: int = MAX_COST) -> list[Any]:
    # Factories, not instances: strawberry builds a fresh extension per request.
    return [
        lambda: QueryDepthLimiter(max_depth=max_depth, should_ignore=_is_introspection),
        lambda: AddValidationRules([cost_rule(max_cost)]),
    ]
