"""Syncat: the catalogue and its storage elements kept in sync by signed messages.

Layers, each using only the ones below it (docs/syncat.md):

- ``messages`` (types, envelope, JSON) and ``signing`` (Ed25519): pure, no I/O;
- ``tables`` and ``store`` (keys trusted, outbox, messages seen, quarantine): the database;
- ``transport`` (RabbitMQ through kombu, or a database table): moving bytes;
- ``outbox`` (announcing catalogue changes) and ``relay`` (publishing them);
- ``consumer`` and ``plugins`` (applying messages), ``producers`` (SE watchers);
- ``audit`` (comparing an SE's listing with the catalogue).
"""
