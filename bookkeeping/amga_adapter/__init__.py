"""The AMGA-style metadata catalogue and the bookkeeping on it (seed 001's AMGA-Bookkeeping).

Subpackages, from the bottom up (docs/ARCHITECTURE.md has the layer contract):

- ``protocol``: the AMGA wire format, pure parsing and formatting (no I/O).
- ``query``: the condition language, parsed and compiled to SQLAlchemy Core.
- ``engine``: the catalogue (``Catalogue``, ``CatalogueSession`` and its components).
- ``client``: the AMGA client (connection, ``MDClient``, federation, remote sessions).
- ``server``: the asyncio protocol server over engine sessions.
- ``bookkeeping``: the bookkeeping interface on catalogue directories.
"""
