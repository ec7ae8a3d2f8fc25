"""Data handling in the KLOE manner (seed 004): the file life cycle, the archiver, the
recall daemon with pins and leases, and KID-style URI access (docs/datahandling.md)."""
