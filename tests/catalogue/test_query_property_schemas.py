"""Property: on random directory *schemas* (attribute names drawn from SQL and query-language
reserved words, non-ASCII and random identifiers; types among every number type,
numeric(p,s), varchar(n), text and date) filled with random data (non-ASCII text included),
``find`` and ``selectattr`` through the whole engine return what the pure-Python evaluator
says the condition means.

Each example creates its two directories afresh (``/r/a``, ``/r/b``) and removes them
after. Text values have no spaces (MariaDB's PAD SPACE collation) and no ``lower``/
``upper`` is applied to them (non-ASCII case mapping is each back-end's own, see
docs/query-language.md); ``float`` values are simple binary fractions.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.query.evaluate import Directory, evaluate_find, evaluate_select
from tests.query.test_against_evaluator import normalised

BASE = "/r"
PATHS = {"a": f"{BASE}/a", "b": f"{BASE}/b"}
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RESERVED = [
    "Order", "Group", "Size", "Name", "User", "Select", "From", "Where", "Table", "Limit",
    "Offset", "Desc", "Asc", "Distinct", "By", "And", "Or", "Count", "Min", "Max", "Sum",
    "Lower", "Key", "Index", "Date", "Time", "Timestamp", "Values", "Null", "Is",
]  # fmt: skip
UNICODE_NAMES = ["Größe", "café", "名前", "Ωmega", "naïve_1"]
IDENTIFIERS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda name: name.upper() != "FILE"
)
NAMES = st.sampled_from(RESERVED) | st.sampled_from(UNICODE_NAMES) | IDENTIFIERS

# type -> (kind, strategy of values without NULL)
TEXT = st.text(alphabet="aAbé中✓", max_size=3)
FLOATS = st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 2.25, 3.0])
DECIMALS = st.sampled_from([Decimal(v) for v in "-1.25 0 0.5 2.75 3".split()])
DATES = st.sampled_from([dt.date(2024, 1, d) for d in (1, 2, 3)] + [dt.date(1999, 12, 31)])
TYPES: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "int": ("number", st.integers(-4, 4)),
    "smallint": ("number", st.integers(-4, 4)),
    "bigint": ("number", st.integers(-4, 4)),
    "float": ("number", FLOATS),
    "double": ("number", FLOATS | st.sampled_from([0.1, -0.3])),
    "numeric(6,2)": ("number", DECIMALS),
    "varchar(8)": ("string", TEXT),
    "text": ("string", TEXT),
    "date": ("date", DATES),
}
EVALUATOR_TYPES = {"number": float, "string": str, "date": dt.date}
DATE_LITERALS = st.sampled_from(['"2024-01-02"', "'2024-01-01'", '"1999-12-31"', '" 2024-01-03 "'])
NUMBER_LITERALS = st.integers(-4, 4).map(str) | st.sampled_from(["0.5", "-1.25", "2.75", '"3"'])
STRING_LITERALS = TEXT.map(lambda s: f'"{s}"') | TEXT.map(lambda s: f"'{s}'")
LITERALS = {"number": NUMBER_LITERALS, "string": STRING_LITERALS, "date": DATE_LITERALS}
PATTERNS = st.text(alphabet="aé中%_", max_size=3).map(lambda s: f'"{s}"')
COMPARISONS = st.sampled_from(["=", "!=", "<>", "<", ">", "<=", ">="])

Schema = dict[str, dict[str, str]]  # directory letter -> {attribute name: type}


KINDS = {kind: [t for t, (k, _) in TYPES.items() if k == kind] for kind in LITERALS}


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    """Random attributes in both directories; /r/a has at least one of each kind."""
    schema = {
        letter: draw(st.dictionaries(NAMES, st.sampled_from(list(TYPES)), max_size=3))
        for letter in PATHS
    }
    for types in KINDS.values():
        schema["a"].setdefault(draw(NAMES), draw(st.sampled_from(types)))
    return schema


@st.composite
def datasets(draw: st.DrawFn, schema: Schema) -> dict[str, list[dict[str, Any]]]:
    data = {}
    for letter, attributes in schema.items():
        count = draw(st.integers(0, 5))
        data[letter] = [
            {
                "FILE": f"{letter}{'é' * (i % 2)}{i}",
                **{
                    name: draw(st.none() | TYPES[type_][1] | TYPES[type_][1])
                    for name, type_ in attributes.items()
                },
            }
            for i in range(count)
        ]
    return data


def _refs(schema: Schema, kind: str, find_in: str | None) -> st.SearchStrategy[str]:
    """References to attributes of ``kind``: absolute, relative to the cwd /r, ``.:`` of
    /r/<letter> (only as the current directory of selectattr, never here), bare (only for
    the directory of find)."""
    options = [
        (letter, name)
        for letter, attributes in schema.items()
        for name, type_ in attributes.items()
        if TYPES[type_][0] == kind
    ]
    if kind == "string":
        options += [(letter, "FILE") for letter in schema]
    if not options:
        return st.nothing()

    def spell(option: tuple[str, str]) -> st.SearchStrategy[str]:
        letter, name = option
        spellings = [f"{PATHS[letter]}:{name}", f"{letter}:{name}", f"../r/{letter}:{name}"]
        if letter == find_in:
            spellings.append(name)
        return st.sampled_from(spellings)

    return st.sampled_from(options).flatmap(spell)


def conditions(schema: Schema, find_in: str | None) -> st.SearchStrategy[str]:
    refs = {kind: _refs(schema, kind, find_in) for kind in LITERALS}
    numbers = st.recursive(
        refs["number"] | NUMBER_LITERALS,
        lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        max_leaves=3,
    )
    predicates = [st.tuples(numbers, COMPARISONS, numbers).map(" ".join)]
    for kind in ("string", "date"):
        predicates.append(
            st.tuples(refs[kind], COMPARISONS, refs[kind] | LITERALS[kind]).map(" ".join)
        )
    for kind, ref in refs.items():
        predicates += [
            st.builds(
                lambda r, neg, items: f"{r} {neg}in ({', '.join(items)})",
                ref,
                st.sampled_from(["", "not "]),
                st.lists(LITERALS[kind], min_size=1, max_size=3),
            ),
            st.builds(lambda r, neg: f"{r} is {neg}null", ref, st.sampled_from(["", "not "])),
        ]
    predicates.append(st.builds(lambda r, p: f"like({r}, {p})", refs["string"], PATTERNS))
    predicates.append(st.builds(lambda r, p: f"{r} not like {p}", refs["string"], PATTERNS))
    return st.recursive(
        st.one_of(predicates),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "OR"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=4,
    )


def _load(root: CatalogueSession, schema: Schema, data: dict[str, list[dict[str, Any]]]) -> None:
    if any(path == BASE for path, _ in root.dir("/")):
        root.rmdir(BASE, recursive=True)
    root.createdir(BASE)
    for letter, path in PATHS.items():
        root.createdir(path)
        root.ensure_attributes(path, schema[letter])
        root.addentries(
            path,
            [(row["FILE"], {k: v for k, v in row.items() if k != "FILE"}) for row in data[letter]],
        )


def _directories(schema: Schema, data: dict[str, list[dict[str, Any]]]) -> dict[str, Directory]:
    def plain(value: Any) -> Any:
        return float(value) if isinstance(value, Decimal) else value

    return {
        PATHS[letter]: Directory(
            PATHS[letter],
            {name: EVALUATOR_TYPES[TYPES[t][0]] for name, t in schema[letter].items()},
            [{k: plain(v) for k, v in row.items()} for row in data[letter]],
        )
        for letter in PATHS
    }


def _resolve(raw: str) -> str:
    return posixpath.normpath(posixpath.join(BASE, raw))


def test_find_on_random_schemas_agrees_with_the_evaluator(root: CatalogueSession) -> None:
    @SETTINGS
    @given(schema=schemas(), choice=st.data())
    def check(schema: Schema, choice: st.DataObject) -> None:
        data = choice.draw(datasets(schema))
        condition = choice.draw(st.none() | conditions(schema, "a")) or ""
        _load(root, schema, data)
        root.cd(BASE)
        expected = evaluate_find("a", condition, _directories(schema, data), _resolve)
        event("non-empty result" if expected else "empty result")
        assert sorted(root.find("a", condition)) == sorted(f"{PATHS['a']}/{n}" for n in expected)

    check()


def test_selectattr_on_random_schemas_agrees_with_the_evaluator(root: CatalogueSession) -> None:
    @SETTINGS
    @given(schema=schemas(), choice=st.data())
    def check(schema: Schema, choice: st.DataObject) -> None:
        data = choice.draw(datasets(schema))
        condition = choice.draw(st.none() | conditions(schema, None)) or ""
        every = [f"{PATHS[letter]}:{name}" for letter in PATHS for name in schema[letter]]
        items = choice.draw(st.lists(st.sampled_from(every), min_size=1, max_size=3))
        keys = choice.draw(st.lists(st.sampled_from(every), max_size=2, unique=True))
        # the entry names make the order total, so the page is deterministic
        order = [*(f"{k} desc" if choice.draw(st.booleans()) else k for k in keys)]
        order += [f"{PATHS['a']}:FILE", f"{PATHS['b']}:FILE"]
        condition += " order by " + ", ".join(order)
        condition += f" limit {choice.draw(st.integers(0, 8))}"
        _load(root, schema, data)
        root.cd(BASE)
        expected = evaluate_select(
            items, condition, _directories(schema, data), _resolve, default_directory="."
        )
        event("non-empty result" if expected else "empty result")
        found = list(root.selectattr(items, condition))
        assert normalised(found, True) == normalised(expected, True)

    check()
