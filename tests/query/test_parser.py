"""Conformance of the parser: every construct of the query language, as AST."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.query import parse_condition, parse_expression, parse_select_items
from bookkeeping.amga_adapter.query.ast import (
    Arithmetic,
    AttributeRef,
    BoolOp,
    Comparison,
    Condition,
    FunctionCall,
    InList,
    IsNull,
    Like,
    Literal,
    Negate,
    Not,
    OrderItem,
)


def ref(name: str, directory: str | None = None) -> AttributeRef:
    return AttributeRef(directory, name, position=0)


def lit(value: int | float | str) -> Literal:
    return Literal(value, position=0)


def cmp(operator: str, left: object, right: object) -> Comparison:
    return Comparison(operator, left, right, position=0)  # type: ignore[arg-type]


def where(text: str) -> object:
    return parse_condition(text).where


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/jobs:JOB_ID", ref("JOB_ID", "/jobs")),
        ("/bk/jobs/sub:JOB_ID", ref("JOB_ID", "/bk/jobs/sub")),
        ("jobs:JOB_ID", ref("JOB_ID", "jobs")),
        ("sub/dir:x", ref("x", "sub/dir")),
        (".:x", ref("x", ".")),
        ("..:x", ref("x", "..")),
        ("../other:x", ref("x", "../other")),
        ("/:x", ref("x", "/")),
        ("/belle/MC/release-01-00/DB0001:x", ref("x", "/belle/MC/release-01-00/DB0001")),
        ("/runs/2024:x", ref("x", "/runs/2024")),
        ("x", ref("x")),
        ("FILE", ref("FILE")),
        ("/jobs:FILE", ref("FILE", "/jobs")),
        ("Größe", ref("Größe")),
        ("_private9", ref("_private9")),
    ],
)
def test_attribute_references(text: str, expected: AttributeRef) -> None:
    assert parse_expression(text) == expected


def test_file_is_recognised_in_any_case() -> None:
    assert parse_expression("/jobs:file").is_file  # type: ignore[attr-defined]
    assert not parse_expression("/jobs:filename").is_file  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-42", -42),
        ("+42", 42),
        ("4.5", 4.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ('"MC"', "MC"),
        ("'MC'", "MC"),
        ('""', ""),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"a\\b"', "a\\b"),
        (r'"tab\there"', "tab\there"),
        (r'"line\nbreak"', "line\nbreak"),
        (r'"keeps \% for like"', "keeps \\% for like"),
        ('"single \' inside double"', "single ' inside double"),
        ("'double \" inside single'", 'double " inside single'),
        ('"αβγ 🚀"', "αβγ 🚀"),
        ('"multi\nline"', "multi\nline"),
    ],
)
def test_literals(text: str, value: object) -> None:
    assert parse_expression(text) == lit(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("operator", ["=", "!=", "<", ">", "<=", ">="])
def test_comparisons(operator: str) -> None:
    assert where(f"a {operator} 5") == cmp(operator, ref("a"), lit(5))
    assert where(f"a{operator}5") == cmp(operator, ref("a"), lit(5))


def test_angle_brackets_mean_not_equal() -> None:
    assert where("a <> 5") == cmp("!=", ref("a"), lit(5))


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = (cmp("=", ref(n), lit(1)) for n in "abc")
    assert where("a=1 or b=1 and c=1") == BoolOp(
        "or", (a, BoolOp("and", (b, c), position=0)), position=0
    )
    assert where("not a=1 and b=1") == BoolOp("and", (Not(a, position=0), b), position=0)
    assert where("(a=1 or b=1) and c=1") == BoolOp(
        "and", (BoolOp("or", (a, b), position=0), c), position=0
    )


def test_chains_of_one_connective_are_flat() -> None:
    condition = " or ".join(f"a = {i}" for i in range(500))
    parsed = where(condition)
    assert isinstance(parsed, BoolOp) and len(parsed.operands) == 500


def test_arithmetic_precedence_and_associativity() -> None:
    assert parse_expression("a + b * 2") == Arithmetic(
        "+", ref("a"), Arithmetic("*", ref("b"), lit(2), position=0), position=0
    )
    assert parse_expression("a - b - c") == Arithmetic(
        "-", Arithmetic("-", ref("a"), ref("b"), position=0), ref("c"), position=0
    )
    assert parse_expression("(a + b) / 2") == Arithmetic(
        "/", Arithmetic("+", ref("a"), ref("b"), position=0), lit(2), position=0
    )
    assert parse_expression("-a") == Negate(ref("a"), position=0)
    assert parse_expression("a*-2") == Arithmetic("*", ref("a"), lit(-2), position=0)


def test_division_needs_spaces_before_a_relative_reference() -> None:
    # "a/b:c" is the attribute c of the directory a/b; "a / b:c" divides
    assert parse_expression("a/b:c") == ref("c", "a/b")
    assert parse_expression("a / b:c") == Arithmetic("/", ref("a"), ref("c", "b"), position=0)
    assert parse_expression("a/2") == Arithmetic("/", ref("a"), lit(2), position=0)
    assert parse_expression("a / /abs:c") == Arithmetic("/", ref("a"), ref("c", "/abs"), position=0)


def test_minus_before_a_reference_is_a_sign() -> None:
    assert parse_expression("-/d:x") == Negate(ref("x", "/d"), position=0)
    assert parse_expression("-d:x") == Negate(ref("x", "d"), position=0)
    assert parse_expression("2*-d:x") == Arithmetic(
        "*", lit(2), Negate(ref("x", "d"), position=0), position=0
    )
    # inside a relative path a hyphen belongs to the name: write "a - b:x" to subtract
    assert parse_expression("a-b:x") == ref("x", "a-b")


def test_like_function_and_infix() -> None:
    expected = Like(ref("a"), lit("x%"), position=0)
    assert where('like(a, "x%")') == expected
    assert where('LIKE(a, "x%")') == expected
    assert where('a like "x%"') == expected
    assert where('a not like "x%"') == Like(ref("a"), lit("x%"), True, position=0)
    assert where('not like(a, "x%")') == Not(expected, position=0)


def test_in_lists() -> None:
    assert where('a in (1, "two", 3.5)') == InList(
        ref("a"), (lit(1), lit("two"), lit(3.5)), position=0
    )
    assert where("a not in (1)") == InList(ref("a"), (lit(1),), True, position=0)
    assert where("a in (b, c + 1)") == InList(
        ref("a"), (ref("b"), Arithmetic("+", ref("c"), lit(1), position=0)), position=0
    )


def test_is_null() -> None:
    assert where("a is null") == IsNull(ref("a"), position=0)
    assert where("a IS NOT NULL") == IsNull(ref("a"), True, position=0)
    assert where("Null is null and Is is not null") == BoolOp(
        "and", (IsNull(ref("Null"), position=0), IsNull(ref("Is"), True, position=0)), position=0
    )
    assert where("a = Null") == cmp("=", ref("a"), ref("Null"))


@pytest.mark.parametrize(
    "name", ["count", "min", "max", "sum", "avg", "lower", "upper", "COUNT", "Max"]
)
def test_function_calls_in_items(name: str) -> None:
    assert parse_select_items([f"{name}(/d:FILE)"]) == (
        FunctionCall(name.lower(), (ref("FILE", "/d"),), position=0),
    )


def test_select_items_are_parsed_one_by_one() -> None:
    assert parse_select_items(["/d:a", "b", "count(c)", "lower(d) "]) == (
        ref("a", "/d"),
        ref("b"),
        FunctionCall("count", (ref("c"),), position=0),
        FunctionCall("lower", (ref("d"),), position=0),
    )


def test_scalar_functions_in_conditions() -> None:
    assert where('lower(a) = "x"') == cmp(
        "=", FunctionCall("lower", (ref("a"),), position=0), lit("x")
    )


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_condition(text: str) -> None:
    assert parse_condition(text) == Condition(position=0)


def test_condition_of_modifiers_only() -> None:
    assert parse_condition("limit 50 offset 0") == Condition(limit=50, offset=0, position=0)
    assert parse_condition("distinct") == Condition(distinct=True, position=0)
    assert parse_condition("order by a") == Condition(
        order_by=(OrderItem(ref("a"), position=0),), position=0
    )


def test_all_modifiers_in_any_order() -> None:
    expected = Condition(
        where=cmp(">", ref("a"), lit(1)),
        order_by=(OrderItem(ref("a"), True, position=0), OrderItem(ref("b", "/d"), position=0)),
        limit=10,
        offset=20,
        distinct=True,
        position=0,
    )
    assert (
        parse_condition("a > 1 order by a desc, /d:b asc limit 10 offset 20 distinct") == expected
    )
    assert parse_condition("a > 1 distinct offset 20 limit 10 order by a desc, /d:b") == expected
    assert (
        parse_condition("a > 1 DISTINCT Offset 20 LIMIT 10 Order By a DESC, /d:b ASC") == expected
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order by Order", Condition(order_by=(OrderItem(ref("Order"), position=0),), position=0)),
        (
            "order by Order desc",
            Condition(order_by=(OrderItem(ref("Order"), True, position=0),), position=0),
        ),
        ("order by Desc", Condition(order_by=(OrderItem(ref("Desc"), position=0),), position=0)),
        (
            "order by Limit limit 5",
            Condition(order_by=(OrderItem(ref("Limit"), position=0),), limit=5, position=0),
        ),
        ("Limit > 5 limit 5", Condition(where=cmp(">", ref("Limit"), lit(5)), limit=5, position=0)),
        ("Order = 1", Condition(where=cmp("=", ref("Order"), lit(1)), position=0)),
        ("Group = 'x'", Condition(where=cmp("=", ref("Group"), lit("x")), position=0)),
        (
            "Distinct = 1 distinct",
            Condition(where=cmp("=", ref("Distinct"), lit(1)), distinct=True, position=0),
        ),
        ("a = Distinct", Condition(where=cmp("=", ref("a"), ref("Distinct")), position=0)),
        ("Offset >= By", Condition(where=cmp(">=", ref("Offset"), ref("By")), position=0)),
        ("In = 1", Condition(where=cmp("=", ref("In"), lit(1)), position=0)),
        ("Not = 1", Condition(where=cmp("=", ref("Not"), lit(1)), position=0)),
        ("Like = 1", Condition(where=cmp("=", ref("Like"), lit(1)), position=0)),
        (
            "And = 1 and Or = 2",
            Condition(
                where=BoolOp(
                    "and", (cmp("=", ref("And"), lit(1)), cmp("=", ref("Or"), lit(2))), position=0
                ),
                position=0,
            ),
        ),
        ("not Not = 1", Condition(where=Not(cmp("=", ref("Not"), lit(1)), position=0), position=0)),
        (".:Order = 1", Condition(where=cmp("=", ref("Order", "."), lit(1)), position=0)),
    ],
)
def test_keywords_are_attribute_names_where_unambiguous(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


def test_positions_are_offsets_into_the_text() -> None:
    parsed = parse_condition('/jobs:A = "x" and  b in (1, 2) order by c')
    assert parsed.where.operands[0].right.position == 10  # type: ignore[union-attr]
    in_list = parsed.where.operands[1]  # type: ignore[union-attr]
    assert in_list.position == 19 and in_list.items[1].position == 28
    assert parsed.order_by[0].position == 40


def test_whitespace_and_newlines_are_insignificant() -> None:
    assert parse_condition("a\n=\t1\r\n  limit\n3") == Condition(
        where=cmp("=", ref("a"), lit(1)), limit=3, position=0
    )
