"""The AMGA query language: parse conditions, selected items and update expressions, and
compile them to SQLAlchemy Core statements over the catalogue's directory tables.
See docs/query-language.md."""

from .compiler import compile_filter, compile_find, compile_select, compile_update
from .errors import QueryError, QuerySyntaxError, QueryTypeError
from .parser import parse_condition, parse_expression, parse_select_items
from .patterns import glob_to_like
from .protocols import ResolvedDirectory, Resolver

__all__ = [
    "QueryError",
    "QuerySyntaxError",
    "QueryTypeError",
    "ResolvedDirectory",
    "Resolver",
    "compile_filter",
    "compile_find",
    "compile_select",
    "compile_update",
    "glob_to_like",
    "parse_condition",
    "parse_expression",
    "parse_select_items",
]
