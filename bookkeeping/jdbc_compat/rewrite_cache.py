"""View rewrites (``pivot.py``) reused per connection: rewriting copies and walks the whole
statement, every time it runs otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from bookkeeping.jdbc_compat.schema import CatalogueSchema, views_of


class RewriteCache:
    """Rewritten statements of one connection, reused while the parameters the rewrite read
    have the same values, the schema cache has not been refreshed and the views are the
    same (rewriting copies and walks the whole statement, every time it runs otherwise).
    Statements are shared, never changed, after translation: safe to hand out again."""

    VARIANTS = 32  # per statement: e.g. one per parameter name asked for
    STATEMENTS = 256

    def __init__(self) -> None:
        self._entries: dict[int, tuple[exp.Select, object, list[_Variant]]] = {}

    @staticmethod
    def _state(schema: CatalogueSchema) -> object:
        views = views_of(schema)
        return (getattr(schema, "generation", None), tuple((k, id(v)) for k, v in views.items()))

    def get(
        self, select: exp.Select, schema: CatalogueSchema, params: Sequence[object]
    ) -> exp.Select | None:
        entry = self._entries.get(id(select))
        if entry is None or entry[0] is not select or entry[1] != self._state(schema):
            return None
        for consumed, rewritten in entry[2]:
            if all(type(params[i]) is type(v) and params[i] == v for i, v in consumed.items()):
                return rewritten
        return None

    def put(
        self,
        select: exp.Select,
        schema: CatalogueSchema,
        consumed: dict[int, object],
        rewritten: exp.Select,
    ) -> None:
        state = self._state(schema)
        entry = self._entries.get(id(select))
        if entry is None or entry[0] is not select or entry[1] != state:
            if len(self._entries) >= self.STATEMENTS:
                self._entries.pop(next(iter(self._entries)))
            # The entry holds the statement itself, so its id is not reused while cached.
            entry = (select, state, [])
            self._entries[id(select)] = entry
        variants = entry[2]
        if len(variants) >= self.VARIANTS:
            variants.pop(0)
        variants.append((dict(consumed), rewritten))


_Variant = tuple[dict[int, object], exp.Select]
