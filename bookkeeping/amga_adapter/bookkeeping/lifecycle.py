"""The life cycle of recorded files in the catalogue (``/files:STATE``); what changes and
what is refused is ``bookkeeping/writer/lifecycle.py``'s, shared with the warehouse.

One transaction: the files' entries are locked first (an update of ``STATE`` to itself), so
two changes of the same files take turns; their states are then read, every step checked
(an error aborts: nothing changed) and the moving files updated. A transaction that collided
with another is taken again after a short random pause. The views do not carry the state.
"""

from __future__ import annotations

from collections.abc import Sequence

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.engine.errors import TransactionError
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.chunking import chunked
from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.retry import retrying
from bookkeeping.writer.changes import check_known, checked_lfns
from bookkeeping.writer.lifecycle import LifeCycleChange, LifeCycleState, stored_state

ATTEMPTS = 6
IN_CHUNK = 500


def set_life_cycle(session: CatalogueSession, lfns: Sequence[str], change: LifeCycleChange) -> int:
    change.check()
    wanted = checked_lfns(lfns)
    if not wanted:
        return 0
    return retrying(
        lambda: _transaction(session, wanted, change),
        # a failed commit, a deadlock: again
        retry_on=lambda exc: isinstance(exc, TransactionError | DatabaseUnavailable),
        attempts=ATTEMPTS,
    )


def _transaction(session: CatalogueSession, wanted: list[str], change: LifeCycleChange) -> int:
    session.begin()
    try:
        for chunk in chunked(wanted, IN_CHUNK):
            session.updateattr(L.FILES, [("STATE", "STATE")], f"LOGNAME in {L.literal_list(chunk)}")
        found = session.select_in(L.FILES, "LOGNAME", wanted, ["STATE"])
        current: dict[str, LifeCycleState] = {str(lfn): stored_state(state) for lfn, state in found}
        check_known(wanted, set(current))
        moving = [lfn for lfn in wanted if change.apply(lfn, current[lfn]) is not None]
        for chunk in chunked(moving, IN_CHUNK):
            session.updateattr(
                L.FILES, [("STATE", L.literal(change.state))], f"LOGNAME in {L.literal_list(chunk)}"
            )
    except BaseException:
        session.abort()
        raise
    session.commit()
    return len(moving)


def state_condition(state: LifeCycleState) -> str:
    """The catalogue condition selecting files in ``state`` (an entry written before the
    attribute existed has none and is ``closed``)."""
    condition = f"{L.FILES}:STATE = {L.literal(state)}"
    if stored_state(None) == state:
        condition = f"({condition} or {L.FILES}:STATE is null)"
    return condition
