"""JSON answers that never carry ``<``, ``>``, ``&`` or ``'`` literally.

JSON has these characters only inside strings, where ``\\u003c`` etc. mean the same to
every JSON parser; spelled so, text that a user put into a parameter cannot be taken for
markup by anything that sniffs a JSON answer as HTML (defence in depth beside
``X-Content-Type-Options: nosniff``).
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


class HtmlSafeJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return super().dumps(obj, **kwargs).translate(_ESCAPES)
