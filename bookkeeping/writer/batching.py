"""How both writers record a batch of reports (one algorithm, two storages).

Each report is validated on its own (a report that fails validation is FAILED and the rest
go on); the valid ones are written as one batch (one transaction, ids reserved in blocks);
if the batch as a whole cannot be written, each report is written alone, so that one report
that cannot be recorded does not take the others down with it. Results follow ``reports``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bookkeeping.errors import ValidationError
from bookkeeping.writer.model import JobReport, RecordResult
from bookkeeping.writer.planning import failed
from bookkeeping.writer.validation import validate_report

__all__ = ["record_batch"]


def record_batch(
    reports: Sequence[JobReport],
    *,
    write: Callable[[Sequence[JobReport]], list[RecordResult]],
    alone: Callable[[JobReport], RecordResult],
    falls_back_on: type[Exception] | tuple[type[Exception], ...],
    prepare: Callable[[Sequence[JobReport]], object] | None = None,
) -> list[RecordResult]:
    """``write`` the valid reports as one batch (after ``prepare``: schema changes, outside
    the batch's transaction); when it raises ``falls_back_on``, ``alone`` for each."""
    results: list[RecordResult | None] = [None] * len(reports)
    valid: list[int] = []
    for index, report in enumerate(reports):
        try:
            validate_report(report)
        except ValidationError as exc:
            results[index] = failed(report, exc)
        else:
            valid.append(index)
    batch = [reports[i] for i in valid]
    if prepare is not None:
        prepare(batch)
    try:
        written = write(batch)
        for index, result in zip(valid, written, strict=True):
            results[index] = result
    except falls_back_on:
        for index in valid:
            results[index] = alone(reports[index])
    return [result for result in results if result is not None]
