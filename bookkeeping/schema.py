"""Import every static table so ``metadata`` is complete (used by Alembic and tests)."""

from __future__ import annotations

from bookkeeping import api_tokens  # noqa: F401  (registers tables)
from bookkeeping.aggregation import tables as _aggregation_tables  # noqa: F401  (registers tables)
from bookkeeping.amga_adapter.engine import (
    root_directory,  # noqa: F401  ("/" with the schema)
    system_tables,  # noqa: F401  (registers tables)
)
from bookkeeping.datahandling import tables as _datahandling_tables  # noqa: F401
from bookkeeping.metadata import metadata
from bookkeeping.replication import tables as _replication_tables  # noqa: F401  (registers)
from bookkeeping.storage import tables as _storage_tables  # noqa: F401  (registers tables)
from bookkeeping.syncat import tables as _syncat_tables  # noqa: F401  (registers tables)
from bookkeeping.warehouse import tables as _warehouse_tables  # noqa: F401  (registers tables)

__all__ = ["metadata"]
