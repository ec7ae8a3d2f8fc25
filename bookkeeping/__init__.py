"""HEP bookkeeping on an AMGA-style metadata catalogue, next to a relational warehouse."""

__version__ = "0.1.0"
