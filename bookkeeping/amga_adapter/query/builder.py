"""Builds ``query.ast`` nodes from the grammar's rules as the LALR parser reduces them.

Also the static checks that need no schema: a condition where a value was expected and the
other way round, unknown functions and wrong argument counts, repeated modifiers.
"""

from __future__ import annotations

import math
from typing import Any

from lark import Token, Transformer

from . import ast

_FUNCTION_ARITY = {name: 1 for name in ast.AGGREGATES | ast.SCALAR_FUNCTIONS} | {"like": 2}
_MAX_INTEGER = 2**63 - 1  # what every back-end's BIGINT holds
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}


class Problem(Exception):
    """A check failed while building; the parser turns it into a positioned QueryError."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _position(item: ast.Node | Token) -> int:
    if isinstance(item, Token):
        return item.start_pos or 0
    return item.position


def _value(node: ast.Node) -> ast.Node:
    if ast.is_boolean(node):
        raise Problem("a condition cannot be used as a value here", node.position)
    return node


def _boolean(node: ast.Node) -> ast.Node:
    if not ast.is_boolean(node):
        raise Problem("expected a condition (such as Size > 5), found a value", node.position)
    return node


def _count(token: Token) -> int:
    digits = token.lstrip("0") or "0"
    if len(digits) > 19 or int(digits) > _MAX_INTEGER:
        raise Problem("number out of range (at most 2**63-1)", _position(token))
    return int(digits)


def unescape(literal: str) -> str:
    """The value of a quoted string token. ``\\\\``, ``\\"``, ``\\'``, ``\\n``, ``\\t`` and
    ``\\r`` are escapes; any other backslash is kept, so LIKE escapes (``\\%``) survive."""
    body = literal[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        character = body[index]
        if character == "\\" and index + 1 < len(body) and body[index + 1] in _ESCAPES:
            out.append(_ESCAPES[body[index + 1]])
            index += 2
        else:
            out.append(character)
            index += 1
    return "".join(out)


class AstBuilder(Transformer[Token, Any]):
    # -- whole texts ------------------------------------------------------------------
    def start_condition(self, children: list[Any]) -> ast.Condition:
        # The optional expression comes first; the modifiers are (name, position, value).
        where = children[0] if children and isinstance(children[0], ast.Node) else None
        modifiers = [child for child in children if isinstance(child, tuple)]
        fields: dict[str, Any] = {}
        for name, position, value in modifiers:
            if name in fields:
                raise Problem(f"'{name.replace('_', ' ')}' given twice", position)
            fields[name] = value
        return ast.Condition(
            where=None if where is None else _boolean(where),
            position=0 if where is None else where.position,
            **fields,
        )

    def start_expression(self, children: list[Any]) -> ast.Node:
        return children[0]

    # -- modifiers --------------------------------------------------------------------
    def order_by(self, children: list[Any]) -> tuple[str, int, tuple[ast.OrderItem, ...]]:
        order, _by, *items = children
        return ("order_by", _position(order), tuple(items))

    def order_item(self, children: list[Any]) -> ast.OrderItem:
        expression, direction = children
        descending = direction is not None and direction.type == "DESC"
        return ast.OrderItem(_value(expression), descending, position=expression.position)

    def limit(self, children: list[Token]) -> tuple[str, int, int]:
        return ("limit", _position(children[0]), _count(children[1]))

    def offset(self, children: list[Token]) -> tuple[str, int, int]:
        return ("offset", _position(children[0]), _count(children[1]))

    def distinct(self, children: list[Token]) -> tuple[str, int, bool]:
        return ("distinct", _position(children[0]), True)

    # -- boolean structure --------------------------------------------------------------
    def or_expr(self, children: list[Any]) -> ast.BoolOp:
        return self._connective("or", children)

    def and_expr(self, children: list[Any]) -> ast.BoolOp:
        return self._connective("and", children)

    def _connective(self, operator: str, children: list[Any]) -> ast.BoolOp:
        operands: list[ast.Node] = []
        for child in children:
            if isinstance(child, Token):
                continue
            _boolean(child)
            if isinstance(child, ast.BoolOp) and child.operator == operator:
                operands.extend(child.operands)  # (a or b) or c == a or b or c
            else:
                operands.append(child)
        return ast.BoolOp(operator, tuple(operands), position=operands[0].position)

    def negation(self, children: list[Any]) -> ast.Not:
        not_token, operand = children
        return ast.Not(_boolean(operand), position=_position(not_token))

    def comparison(self, children: list[Any]) -> ast.Comparison:
        left, operator, right = children
        symbol = "!=" if operator.value == "<>" else operator.value
        return ast.Comparison(symbol, _value(left), _value(right), position=left.position)

    def in_list(self, children: list[Any]) -> ast.InList:
        operand, negation, _in, *items = children
        return ast.InList(
            _value(operand),
            tuple(_value(item) for item in items),
            negation is not None,
            position=operand.position,
        )

    def like_infix(self, children: list[Any]) -> ast.Like:
        operand, negation, _like, pattern = children
        return ast.Like(
            _value(operand), _value(pattern), negation is not None, position=operand.position
        )

    def is_null(self, children: list[Any]) -> ast.IsNull:
        operand, _is, negation, _null = children
        return ast.IsNull(_value(operand), negation is not None, position=operand.position)

    # -- values -----------------------------------------------------------------------
    def arithmetic(self, children: list[Any]) -> ast.Arithmetic:
        left, operator, right = children
        return ast.Arithmetic(operator.value, _value(left), _value(right), position=left.position)

    def sign(self, children: list[Any]) -> ast.Node:
        operator, operand = children
        _value(operand)
        if operator.value == "+":
            return operand
        if isinstance(operand, ast.Literal) and not isinstance(operand.value, str):
            return ast.Literal(-operand.value, position=_position(operator))
        return ast.Negate(operand, position=_position(operator))

    def call(self, children: list[Any]) -> ast.Node:
        name_token, *arguments = children
        arguments = [argument for argument in arguments if argument is not None]
        name = name_token.value.lower()
        position = _position(name_token)
        arity = _FUNCTION_ARITY.get(name)
        if arity is None:
            known = ", ".join(sorted(_FUNCTION_ARITY))
            raise Problem(f"unknown function {name_token.value}(); known: {known}", position)
        if len(arguments) != arity:
            plural = "s" if arity > 1 else ""
            raise Problem(
                f"{name}() takes {arity} argument{plural}, got {len(arguments)}", position
            )
        values = tuple(_value(argument) for argument in arguments)
        if name == "like":
            return ast.Like(values[0], values[1], position=position)
        return ast.FunctionCall(name, values, position=position)

    def qualified_ref(self, children: list[Token]) -> ast.AttributeRef:
        token = children[0]
        directory, _, name = token.value.rpartition(":")
        return ast.AttributeRef(directory, name, position=_position(token))

    def bare_ref(self, children: list[Token]) -> ast.AttributeRef:
        return ast.AttributeRef(None, children[0].value, position=_position(children[0]))

    def integer(self, children: list[Token]) -> ast.Literal:
        # Length first: int() of thousands of digits exceeds Python's conversion limit.
        digits = children[0].lstrip("0")
        if len(digits) > 19 or int(digits or "0") > _MAX_INTEGER:
            raise Problem("integer out of range (at most 2**63-1)", _position(children[0]))
        return ast.Literal(int(digits or "0"), position=_position(children[0]))

    def real(self, children: list[Token]) -> ast.Literal:
        value = float(children[0])
        if not math.isfinite(value):  # 1e309: no back-end stores an infinity
            raise Problem("number out of range (beyond double precision)", _position(children[0]))
        return ast.Literal(value, position=_position(children[0]))

    def string(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(unescape(children[0].value), position=_position(children[0]))
