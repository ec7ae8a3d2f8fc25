"""The parsed form of AMGA conditions, selected items and update expressions.

Nodes are immutable and carry ``position``: the 0-based offset of their first character in
the text they were parsed from, so later stages (name resolution, type checks) can point at
the culprit the same way syntax errors do. Boolean connectives are n-ary, so a long chain
of ``or`` stays shallow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

AGGREGATES = frozenset({"count", "min", "max", "sum", "avg"})
SCALAR_FUNCTIONS = frozenset({"lower", "upper"})
COMPARISONS = frozenset({"=", "!=", "<", ">", "<=", ">="})
ARITHMETIC = frozenset({"+", "-", "*", "/"})
FILE_ATTRIBUTE = "FILE"


@dataclass(frozen=True, slots=True)
class Node:
    position: int = field(kw_only=True, compare=False)

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class AttributeRef(Node):
    """``/dir/sub:attr``, ``dir:attr``, ``.:attr`` (directory as written) or bare ``attr``
    (``directory`` None: the statement's default directory)."""

    directory: str | None
    name: str

    @property
    def is_file(self) -> bool:
        """The entry-name pseudo-attribute (``FILE``, any case)."""
        return self.name.upper() == FILE_ATTRIBUTE

    def __str__(self) -> str:
        return self.name if self.directory is None else f"{self.directory}:{self.name}"


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number (int or float) or a string."""

    value: int | float | str


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    operator: str  # one of ARITHMETIC
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class FunctionCall(Node):
    name: str  # lower case, one of AGGREGATES | SCALAR_FUNCTIONS
    arguments: tuple[Node, ...]

    @property
    def is_aggregate(self) -> bool:
        return self.name in AGGREGATES

    def children(self) -> tuple[Node, ...]:
        return self.arguments


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    operator: str  # one of COMPARISONS ("<>" is normalised to "!=")
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Like(Node):
    """``like(operand, "pattern")`` or ``operand [not] like "pattern"``; the pattern is an
    SQL LIKE pattern (``%``, ``_``, backslash escapes)."""

    operand: Node
    pattern: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand, self.pattern)


@dataclass(frozen=True, slots=True)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand, *self.items)


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    """``operand is [not] null``: never unknown."""

    operand: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    operator: str  # "and" or "or"
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class OrderItem(Node):
    expression: Node
    descending: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.expression,)


@dataclass(frozen=True, slots=True)
class Condition(Node):
    """A whole condition argument: an optional boolean expression and its modifiers."""

    where: Node | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    distinct: bool = False

    def children(self) -> tuple[Node, ...]:
        return ((self.where,) if self.where is not None else ()) + self.order_by


BOOLEAN_NODES = (Comparison, Like, InList, IsNull, Not, BoolOp)


def is_boolean(node: Node) -> bool:
    return isinstance(node, BOOLEAN_NODES)


def walk(node: Node) -> Iterator[Node]:
    """Every node below and including ``node``, without recursion (depth is bounded only
    after this walk has measured it)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def depth(node: Node) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in current.children())
    return deepest


def attribute_refs(node: Node) -> Iterator[AttributeRef]:
    return (n for n in walk(node) if isinstance(n, AttributeRef))
