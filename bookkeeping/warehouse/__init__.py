"""Warehouse: the relational bookkeeping schema and its direct-SQL implementation.

``WarehouseBookkeeping(engine)`` reads (``bookkeeping.interface.Bookkeeping``),
``WarehouseWriter(engine)`` records job reports (``bookkeeping.interface.BookkeepingWriter``).
"""

from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter

__all__ = ["WarehouseBookkeeping", "WarehouseWriter"]
