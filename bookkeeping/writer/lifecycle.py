"""A file's life cycle (seed 004): ``open`` (being written) -> ``closed`` (read-only, ready
to be analysed and archived) -> ``archived`` (a verified tape copy exists; its disk copy may
then be deleted to make space).

Both implementations store it with the file (warehouse ``files.state``, catalogue
``/files:STATE``; a catalogue entry written before the attribute existed reads as
``closed``, what a finished job's output is) and check a change with ``LifeCycleChange``,
so they change and refuse alike: a step forward changes the file, a step to the state it
is in changes nothing, a step backwards or over ``closed`` is a ``LifeCycleError`` and the
whole call changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bookkeeping.errors import BookkeepingError, ValidationError

LifeCycleState = Literal["open", "closed", "archived"]
LIFE_CYCLE_STATES: tuple[LifeCycleState, ...] = ("open", "closed", "archived")
DEFAULT_STATE: LifeCycleState = "closed"  # a finished job's output
_NEXT = {"open": "closed", "closed": "archived"}


class LifeCycleError(BookkeepingError):
    """A file cannot go to the state asked (backwards, or archived while still open);
    nothing was changed."""

    code = 320


def checked_state(state: object) -> LifeCycleState:
    if state not in LIFE_CYCLE_STATES:
        raise ValidationError(
            f"unknown life-cycle state {state!r}; use one of {', '.join(LIFE_CYCLE_STATES)}"
        )
    return state


def stored_state(value: object) -> LifeCycleState:
    """The state a stored value means (``None``: written before the state was kept)."""
    return DEFAULT_STATE if value is None else checked_state(value)


@dataclass(frozen=True)
class LifeCycleChange:
    """``set_life_cycle``: move every file to ``state``."""

    state: LifeCycleState

    def check(self) -> None:
        checked_state(self.state)

    def apply(self, lfn: str, current: LifeCycleState) -> LifeCycleState | None:
        """The new state, ``None`` when the file is in it already."""
        if current == self.state:
            return None
        if _NEXT.get(current) != self.state:
            raise LifeCycleError(
                f"{lfn} is {current}: it cannot become {self.state}"
                + (" (close it first)" if current == "open" else ""),
                lfn=lfn,
            )
        return self.state
