"""``bookkeeping.retry.retrying``: the one bounded back-off of the writers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bookkeeping.retry import retrying


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def _failing(errors: list[Exception], calls: list[int]) -> Callable[[], str]:
    def work() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"

    return work


def test_a_transient_error_is_retried_until_the_work_succeeds() -> None:
    calls: list[int] = []
    forgotten: list[int] = []
    work = _failing([Transient(), Transient()], calls)
    result = retrying(
        work,
        retry_on=lambda exc: isinstance(exc, Transient),
        attempts=5,
        before_retry=lambda: forgotten.append(1),
    )
    assert result == "done"
    assert len(calls) == 3 and len(forgotten) == 2  # before each new attempt only


def test_the_attempts_are_bounded_and_the_last_error_propagates() -> None:
    calls: list[int] = []
    last = Transient("the third")
    work = _failing([Transient(), Transient(), last, Transient()], calls)
    with pytest.raises(Transient) as raised:
        retrying(work, retry_on=lambda exc: isinstance(exc, Transient), attempts=3)
    assert raised.value is last and len(calls) == 3


def test_an_error_not_known_to_be_transient_is_not_retried() -> None:
    calls: list[int] = []
    work = _failing([Permanent("no"), Transient()], calls)
    with pytest.raises(Permanent, match="no"):
        retrying(work, retry_on=lambda exc: isinstance(exc, Transient), attempts=5)
    assert len(calls) == 1


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retrying(lambda: None, retry_on=lambda exc: True, attempts=0)
