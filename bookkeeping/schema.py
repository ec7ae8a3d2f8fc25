"""Import every static table so ``metadata`` is complete (used by Alembic and tests)."""

from __future__ import annotations

from bookkeeping.amga_adapter import system_tables  # noqa: F401  (registers tables)
from bookkeeping.metadata import metadata
from bookkeeping.warehouse import tables as _warehouse_tables  # noqa: F401  (registers tables)
from webui import tables as _webui_tables  # noqa: F401  (registers tables)

__all__ = ["metadata"]
