"""The benchmark study (seed 001, "Performance Test"): warehouse vs catalogue access.

``bk bench`` runs the pytest-benchmark suite in ``benchmarks/suite`` (``runner``), then
writes a Markdown report (``report``) and PNG plots (``plots``) from its JSON. The suite's
data (``data``), random call streams (``callmix``), table dumps (``dump``) and client
processes (``concurrency``) live here so they can be read and tested on their own.
"""
