"""The catalogue engine: ``Catalogue`` (one per process: engine, schema cache, principals)
and ``CatalogueSession`` (one user), made of explicit components (``session.py``: a core of
connections, transactions and schema cache, and one service per concern: directories,
attributes, entries, queries, ACLs, sequences, constraints, indexes, the replication log),
the catalogue's own tables, attribute types, paths and catalogue errors.

It owns every SQL statement on catalogue tables and every permission check; it knows
nothing of the wire protocol, the server, the client or the bookkeeping built on it.
Conditions are compiled by the sibling ``query`` package.
"""
