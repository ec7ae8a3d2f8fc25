"""Parsing one request line into a typed request.

Each command of the AMGA command table has a frozen dataclass; :func:`parse_request` checks
argument counts and shapes and raises :class:`MalformedRequest` / :class:`UnknownCommand`
naming the problem. Nothing here touches the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bookkeeping.amga_adapter.protocol.errors import MalformedRequest, UnknownCommand
from bookkeeping.amga_adapter.protocol.quoting import tokenize

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CreateDir:
    path: str
    plain: bool = False


@dataclass(frozen=True, slots=True)
class RemoveDir:
    path: str


@dataclass(frozen=True, slots=True)
class ChangeDir:
    path: str


@dataclass(frozen=True, slots=True)
class PrintDir:
    pass


@dataclass(frozen=True, slots=True)
class ListEntries:
    pattern: str


@dataclass(frozen=True, slots=True)
class ListAttributes:
    path: str


@dataclass(frozen=True, slots=True)
class AddAttribute:
    directory: str
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class RemoveAttribute:
    directory: str
    name: str


@dataclass(frozen=True, slots=True)
class ClearAttribute:
    directory: str
    name: str


@dataclass(frozen=True, slots=True)
class AddEntry:
    path: str
    values: Pairs


@dataclass(frozen=True, slots=True)
class AddEntries:
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetAttributes:
    pattern: str
    values: Pairs


@dataclass(frozen=True, slots=True)
class GetAttributes:
    pattern: str
    attributes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Remove:
    pattern: str


@dataclass(frozen=True, slots=True)
class Find:
    pattern: str
    condition: str


@dataclass(frozen=True, slots=True)
class SelectAttributes:
    items: tuple[str, ...]
    condition: str


@dataclass(frozen=True, slots=True)
class UpdateAttributes:
    pattern: str
    assignments: Pairs
    condition: str


@dataclass(frozen=True, slots=True)
class Upload:
    directory: str
    attributes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Put:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Begin:
    pass


@dataclass(frozen=True, slots=True)
class Commit:
    pass


@dataclass(frozen=True, slots=True)
class Abort:
    pass


@dataclass(frozen=True, slots=True)
class SequenceCreate:
    name: str
    directory: str
    increment: int = 1
    start: int = 1


@dataclass(frozen=True, slots=True)
class SequenceNext:
    path: str


@dataclass(frozen=True, slots=True)
class SequenceRemove:
    path: str


@dataclass(frozen=True, slots=True)
class ConstraintAdd:
    """``kind`` is ``not_null``, ``unique``, ``reference`` or ``check``; ``arguments`` holds
    the attribute(s), the reference target (``/dir:attr``) or the check condition."""

    kind: str
    directory: str
    arguments: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ConstraintDrop:
    directory: str
    name: str


@dataclass(frozen=True, slots=True)
class ConstraintList:
    directory: str


@dataclass(frozen=True, slots=True)
class AclAdd:
    path: str
    principal: str
    rights: str


@dataclass(frozen=True, slots=True)
class AclRemove:
    path: str
    principal: str
    rights: str = "rwx"


@dataclass(frozen=True, slots=True)
class AclShow:
    path: str


@dataclass(frozen=True, slots=True)
class ChangeOwner:
    path: str
    owner: str


@dataclass(frozen=True, slots=True)
class WhoAmI:
    pass


Request = (
    CreateDir | RemoveDir | ChangeDir | PrintDir | ListEntries | ListAttributes | AddAttribute
    | RemoveAttribute | ClearAttribute | AddEntry | AddEntries | SetAttributes | GetAttributes
    | Remove | Find | SelectAttributes | UpdateAttributes | Upload | Put | Begin | Commit | Abort
    | SequenceCreate | SequenceNext | SequenceRemove | ConstraintAdd | ConstraintDrop
    | ConstraintList | AclAdd | AclRemove | AclShow | ChangeOwner | WhoAmI
)  # fmt: skip


def parse_request(line: str) -> Request:
    """Parse one request line (newline already removed)."""
    tokens = tokenize(line)
    if not tokens:
        raise MalformedRequest("empty request")
    command = tokens[0].text.lower()
    parser = _PARSERS.get(command)
    if parser is None:
        raise UnknownCommand(f"unknown command {tokens[0].text!r}")
    return parser(command, [token.text for token in tokens[1:]])


def _count(command: str, args: Sequence[str], low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        if high > 1000:
            expected = f"at least {low}"
        raise MalformedRequest(f"{command} takes {expected} arguments, got {len(args)}")


def _integer(command: str, what: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MalformedRequest(f"{command}: {what} must be an integer, got {text!r}") from None


def _pairs(command: str, args: Sequence[str]) -> Pairs:
    if len(args) % 2:
        raise MalformedRequest(f"{command}: attribute {args[-1]!r} has no value")
    return tuple(zip(args[0::2], args[1::2], strict=True))


_MANY = 1 << 30
_Parser = Callable[[str, list[str]], Request]


def _createdir(c: str, a: list[str]) -> Request:
    _count(c, a, 1, 2)
    if len(a) == 2 and a[1].lower() != "plain":
        raise MalformedRequest(f"createdir: unknown option {a[1]!r} (only 'plain')")
    return CreateDir(a[0], plain=len(a) == 2)


def _one(cls: Callable[[str], Request]) -> _Parser:
    def parse(c: str, a: list[str]) -> Request:
        _count(c, a, 1)
        return cls(a[0])

    return parse


def _none(cls: Callable[[], Request]) -> _Parser:
    def parse(c: str, a: list[str]) -> Request:
        _count(c, a, 0)
        return cls()

    return parse


def _two(cls: Callable[[str, str], Request]) -> _Parser:
    def parse(c: str, a: list[str]) -> Request:
        _count(c, a, 2)
        return cls(a[0], a[1])

    return parse


def _cd(c: str, a: list[str]) -> Request:
    _count(c, a, 0, 1)
    return ChangeDir(a[0] if a else "/")


def _dir(c: str, a: list[str]) -> Request:
    _count(c, a, 0, 1)
    return ListEntries(a[0] if a else ".")


def _addattr(c: str, a: list[str]) -> Request:
    _count(c, a, 3)
    return AddAttribute(a[0], a[1], a[2])


def _addentry(c: str, a: list[str]) -> Request:
    _count(c, a, 1, _MANY)
    return AddEntry(a[0], _pairs(c, a[1:]))


def _addentries(c: str, a: list[str]) -> Request:
    _count(c, a, 1, _MANY)
    return AddEntries(tuple(a))


def _setattr(c: str, a: list[str]) -> Request:
    _count(c, a, 3, _MANY)
    return SetAttributes(a[0], _pairs(c, a[1:]))


def _getattr(c: str, a: list[str]) -> Request:
    _count(c, a, 2, _MANY)
    return GetAttributes(a[0], tuple(a[1:]))


def _find(c: str, a: list[str]) -> Request:
    _count(c, a, 1, 2)
    return Find(a[0], a[1] if len(a) == 2 else "")


def _selectattr(c: str, a: list[str]) -> Request:
    # The last argument is always the condition (clients send '' for none).
    _count(c, a, 2, _MANY)
    return SelectAttributes(tuple(a[:-1]), a[-1])


def _updateattr(c: str, a: list[str]) -> Request:
    if len(a) < 4 or len(a) % 2:
        raise MalformedRequest(
            f"{c} takes a pattern, attribute/expression pairs and a condition, got {len(a)} "
            "arguments"
        )
    return UpdateAttributes(a[0], _pairs(c, a[1:-1]), a[-1])


def _upload(c: str, a: list[str]) -> Request:
    _count(c, a, 1, _MANY)
    return Upload(a[0], tuple(a[1:]))


def _put(c: str, a: list[str]) -> Request:
    _count(c, a, 1, _MANY)
    return Put(a[0], tuple(a[1:]))


def _sequence_create(c: str, a: list[str]) -> Request:
    _count(c, a, 2, 4)
    increment = _integer(c, "increment", a[2]) if len(a) > 2 else 1
    start = _integer(c, "start", a[3]) if len(a) > 3 else 1
    return SequenceCreate(a[0], a[1], increment, start)


def _constraint(kind: str, low: int, high: int) -> _Parser:
    """AMGA clients append an optional constraint name after the fixed arguments."""

    def parse(c: str, a: list[str]) -> Request:
        _count(c, a, low, high)
        fixed = low - 1
        name = a[low] if len(a) > low else None
        return ConstraintAdd(kind, a[0], tuple(a[1 : fixed + 1]), name)

    return parse


def _constraint_unique(c: str, a: list[str]) -> Request:
    # constraint_add_unique <dir> <attr>[,<attr>...] [name]
    _count(c, a, 2, 3)
    attributes = tuple(part for part in a[1].split(",") if part)
    if not attributes:
        raise MalformedRequest(f"{c}: no attribute given")
    return ConstraintAdd("unique", a[0], attributes, a[2] if len(a) == 3 else None)


def _acl_add(c: str, a: list[str]) -> Request:
    _count(c, a, 3)
    return AclAdd(a[0], a[1], a[2])


def _acl_remove(c: str, a: list[str]) -> Request:
    # AMGA's acl_remove names only the principal: every right goes.
    _count(c, a, 2, 3)
    return AclRemove(a[0], a[1], a[2] if len(a) == 3 else "rwx")


_PARSERS: dict[str, _Parser] = {
    "createdir": _createdir,
    "rmdir": _one(RemoveDir),
    "cd": _cd,
    "pwd": _none(PrintDir),
    "dir": _dir,
    "ls": _dir,
    "listattr": _one(ListAttributes),
    "addattr": _addattr,
    "removeattr": _two(RemoveAttribute),
    "clearattr": _two(ClearAttribute),
    "addentry": _addentry,
    "addentries": _addentries,
    "setattr": _setattr,
    "getattr": _getattr,
    "rm": _one(Remove),
    "find": _find,
    "selectattr": _selectattr,
    "updateattr": _updateattr,
    "update": _updateattr,
    "upload": _upload,
    "put": _put,
    "transaction": _none(Begin),
    "commit": _none(Commit),
    "abort": _none(Abort),
    "sequence_create": _sequence_create,
    "sequence_next": _one(SequenceNext),
    "sequence_remove": _one(SequenceRemove),
    "constraint_add_not_null": _constraint("not_null", 2, 3),
    "constraint_add_unique": _constraint_unique,
    "constraint_add_reference": _constraint("reference", 3, 4),
    "constraint_add_check": _constraint("check", 2, 3),
    "constraint_drop": _two(ConstraintDrop),
    "constraint_list": _one(ConstraintList),
    "acl_add": _acl_add,
    "acl_remove": _acl_remove,
    "acl_show": _one(AclShow),
    "chown": _two(ChangeOwner),
    "whoami": _none(WhoAmI),
}

COMMANDS: frozenset[str] = frozenset(_PARSERS)

# Sent with mdclient's executeNoWait: the client reads nothing after them, so the server
# must never answer them (their errors are reported by the next reply the client reads).
NO_REPLY_COMMANDS: frozenset[str] = frozenset({"upload", "put"})

# Commands that change nothing a client could lose: a client may send them again after a
# connection broke before their reply (``cd`` only moves the session's directory).
READ_ONLY_COMMANDS: frozenset[str] = frozenset(
    {"pwd", "cd", "dir", "ls", "listattr", "getattr", "find", "selectattr", "whoami"}
    | {"constraint_list", "acl_show"}
)


def command_word(line: str) -> str:
    """The command of a request line, lower-cased, even when the rest does not parse."""
    words = line.split(None, 1)
    return words[0].lower() if words else ""
