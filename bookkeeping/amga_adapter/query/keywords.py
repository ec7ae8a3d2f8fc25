"""Context-sensitive keywords.

Real bookkeeping schemas have attributes called ``Order``, ``Group``, ``Limit`` or ``Desc``,
so the query language reserves no word. The lexer yields WORD for every bare word; this
post-lexer looks at the token before and the token after and turns a WORD into a keyword
only where the keyword makes sense:

- ``and`` / ``or``: after a complete operand;
- ``not``: before an operand, or between an operand and ``in`` / ``like``;
- ``in``: after an operand (or ``not``) and before ``(``;
- ``like``: after an operand (or ``not``), i.e. infix; ``like(`` elsewhere is the function;
- ``is``: after an operand and before ``null`` or ``not null``; ``null`` after ``is`` or
  ``is not``;
- ``order`` before ``by``; ``limit`` / ``offset`` before an integer; ``distinct`` at the end or
  before another modifier; all four only where a modifier may start (the beginning, or
  after an operand or another modifier);
- ``asc`` / ``desc``: after an operand inside ``order by``.

So ``order by Order desc`` orders by the attribute Order, and ``Limit > 5 limit 5`` filters
on the attribute Limit and returns five rows. Any word is also usable through an explicit
directory reference (``.:Order``).

The post-lexer also bounds the nesting of parentheses, so hostile input is refused before
the parser's stack or any later recursive pass can grow with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token

MAX_NESTING = 40

_OPERAND_END = frozenset({"WORD", "REF", "INT", "DECIMAL", "STRING", "RPAR", "NULL"})
_OPERAND_START = frozenset({"WORD", "REF", "INT", "DECIMAL", "STRING", "LPAR", "ADD_OP"})
_MODIFIER_END = frozenset({"DISTINCT", "ASC", "DESC"})
_MODIFIER_WORDS = frozenset({"order", "limit", "offset", "distinct"})


class NestingTooDeep(Exception):
    """Parentheses nested deeper than MAX_NESTING; ``position`` is the offending one."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class KeywordPostLexer:
    # Lark asks which terminals a post-lexer may produce beyond the grammar's own.
    always_accept: tuple[str, ...] = ()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        previous: str | None = None
        infix_not = False  # the previous token is the "not" of "not in" / "not like"
        after_is = False  # the previous token is the "is" or "is not" of "is [not] null"
        in_order_by = False
        nesting = 0
        tokens = iter(stream)
        current = next(tokens, None)
        while current is not None:
            following = next(tokens, None)
            kind = current.type
            if kind == "WORD":
                kind = _classify(
                    current.value.lower(), previous, following, in_order_by, infix_not, after_is
                )
                if kind != "WORD":
                    current = Token.new_borrow_pos(kind, current.value, current)
            elif kind == "LPAR":
                nesting += 1
                if nesting > MAX_NESTING:
                    raise NestingTooDeep(current.start_pos or 0)
            elif kind == "RPAR":
                nesting -= 1
            if kind == "ORDER":
                in_order_by = True
            elif kind in {"LIMIT", "OFFSET", "DISTINCT"}:
                in_order_by = False
            infix_not = kind == "NOT" and previous in _OPERAND_END
            after_is = kind == "IS" or (kind == "NOT" and previous == "IS")
            previous = kind
            yield current
            current = following


def _classify(
    word: str,
    previous: str | None,
    following: Token | None,
    in_order_by: bool,
    infix_not: bool,
    after_is: bool,
) -> str:
    after_operand = previous in _OPERAND_END
    next_kind = following.type if following is not None else None
    next_word = following.value.lower() if following is not None and next_kind == "WORD" else None
    modifier_may_start = previous is None or after_operand or previous in _MODIFIER_END
    if word in {"and", "or"}:
        return word.upper() if after_operand else "WORD"
    if word == "not":
        if after_operand:
            return "NOT" if next_word in {"in", "like"} else "WORD"
        return "NOT" if next_kind in _OPERAND_START else "WORD"
    if word == "in":
        return "IN" if (after_operand or infix_not) and next_kind == "LPAR" else "WORD"
    if word == "like":
        return "LIKE" if after_operand or infix_not else "WORD"
    if word == "is":
        following_null = next_word == "null" or next_word == "not"
        return "IS" if after_operand and following_null else "WORD"
    if word == "null":
        return "NULL" if after_is else "WORD"
    if word == "by":
        return "BY" if previous == "ORDER" else "WORD"
    if word in {"asc", "desc"}:
        return word.upper() if in_order_by and after_operand else "WORD"
    if not modifier_may_start:
        return "WORD"
    if word == "order":
        return "ORDER" if next_word == "by" else "WORD"
    if word in {"limit", "offset"}:
        return word.upper() if next_kind == "INT" else "WORD"
    if word == "distinct":
        return "DISTINCT" if following is None or next_word in _MODIFIER_WORDS else "WORD"
    return "WORD"
