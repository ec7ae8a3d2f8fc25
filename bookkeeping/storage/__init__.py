"""Storage elements with real bytes: posix directories, XRootD servers, an emulated tape
library; the registry of storage elements; putting and getting files of the bookkeeping.

Layering: this package knows the bookkeeping interface (to register replicas) and its own
tables; nothing here reaches into the catalogue's or the warehouse's tables.
"""
