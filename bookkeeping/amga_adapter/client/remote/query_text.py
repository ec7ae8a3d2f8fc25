"""Query-language text rebuilt from the parsed form, and what a filter proves.

The remote session asks the server follow-up questions about a query it has sent (see
``values``): those need the query's filter without its ``order by``/``limit``/``offset``/
``distinct`` modifiers, and the parser keeps no text positions for the modifiers, so the
filter is written back from its AST. Every compound is parenthesised and every attribute is
written directory-qualified (a bare ``x`` as ``.:x``): the text then parses to the same tree
whatever the attribute is called (``Order``, ``Limit``, ...).
"""

from __future__ import annotations

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.query import ast, parse_condition


def filter_text(condition: str) -> str:
    """``condition`` without its modifiers (``""`` when it has no filter)."""
    where = parse_condition(condition).where
    return "" if where is None else text_of(where)


def ref_text(ref: ast.AttributeRef, default: str = ".") -> str:
    """``dir:name``; a bare name belongs to ``default`` (the current directory, ``.``)."""
    return f"{ref.directory if ref.directory is not None else default}:{ref.name}"


def file_of(ref: ast.AttributeRef) -> str:
    """The entry-name pseudo-attribute of ``ref``'s directory (never NULL)."""
    return f"{ref.directory if ref.directory is not None else '.'}:FILE"


def string_literal(value: str) -> str:
    # The parser's escapes (query/builder.py): backslash, double quote and newline escaped,
    # so any other backslash (a LIKE escape such as \%) reads back as written.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def text_of(node: ast.Node, default: str = ".") -> str:
    """The text of an expression or condition node (see the module docstring); bare names
    are written as attributes of ``default``."""

    def text(child: ast.Node) -> str:
        return text_of(child, default)

    if isinstance(node, ast.AttributeRef):
        return ref_text(node, default)
    if isinstance(node, ast.Literal):
        value = node.value
        if isinstance(value, str):
            return string_literal(value)
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(node, ast.Negate):
        return f"(-{text(node.operand)})"
    if isinstance(node, ast.Arithmetic):
        return f"({text(node.left)} {node.operator} {text(node.right)})"
    if isinstance(node, ast.FunctionCall):
        return f"{node.name}({', '.join(text(a) for a in node.arguments)})"
    if isinstance(node, ast.Comparison):
        return f"({text(node.left)} {node.operator} {text(node.right)})"
    if isinstance(node, ast.Like):
        like = f"like({text(node.operand)}, {text(node.pattern)})"
        return f"(not {like})" if node.negated else like
    if isinstance(node, ast.InList):
        items = ", ".join(text(item) for item in node.items)
        negation = " not" if node.negated else ""
        return f"({text(node.operand)}{negation} in ({items}))"
    if isinstance(node, ast.IsNull):
        return f"({text(node.operand)} is{' not' if node.negated else ''} null)"
    if isinstance(node, ast.Not):
        return f"(not {text(node.operand)})"
    if isinstance(node, ast.BoolOp):
        return "(" + f" {node.operator} ".join(text(o) for o in node.operands) + ")"
    raise TypeError(f"cannot write a {type(node).__name__} back as text")


def not_null_in(condition: str, cwd: str = "/") -> set[tuple[str, str]]:
    """(absolute directory, attribute) of the attributes ``condition``'s filter proves not
    NULL in every row it keeps: those compared, matched with ``like``/``in`` or said to be
    ``is not null`` in a top-level conjunct (a comparison with NULL is unknown, so the row
    would be gone; NULL spreads through arithmetic, lower and upper alike)."""
    where = parse_condition(condition).where
    if where is None:
        return set()
    conjuncts = (
        where.operands if isinstance(where, ast.BoolOp) and where.operator == "and" else (where,)
    )
    found: set[tuple[str, str]] = set()
    for conjunct in conjuncts:
        for operand in _proven_operands(conjunct):
            for ref in ast.attribute_refs(operand):
                if not ref.is_file:
                    found.add((paths.normalise(ref.directory or ".", cwd), ref.name))
    return found


def _proven_operands(node: ast.Node) -> tuple[ast.Node, ...]:
    """The operands whose attributes must be non-NULL for ``node`` to be true."""
    if isinstance(node, ast.Not):
        inner = node.operand
        if isinstance(inner, ast.IsNull) and not inner.negated:
            return (inner.operand,)
        if isinstance(inner, ast.IsNull | ast.Not | ast.BoolOp):
            return ()
        node = inner  # not (x = 1): unknown, not true, when x is NULL
    if isinstance(node, ast.Comparison):
        return (node.left, node.right)
    if isinstance(node, ast.Like | ast.InList):
        return (node.operand,)
    if isinstance(node, ast.IsNull) and node.negated:
        return (node.operand,)
    return ()
