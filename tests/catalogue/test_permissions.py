"""Every operation x (owner, group member, other, anonymous, root).

The directory /p belongs to alice, its group is physicists (bob is a member) and nobody else
has any right (the ACL inherited from / is revoked). The group's rights are r-x (bob may
read) or rwx (bob may also write). The owner and root may do everything else; only root
changes owners; carol (other) and anonymous may do nothing. Entry rights never stand in the
way in the matrix (every entry is rw- for its group); the tests after it are about the
entries' own rights.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.errors import NoSuchEntry, PermissionDenied
from bookkeeping.amga_adapter.engine.permissions import EVERYBODY

Operation = Callable[[CatalogueSession], object]

READS: dict[str, Operation] = {
    "dir": lambda s: list(s.dir("/p")),
    "listattr": lambda s: s.listattr("/p"),
    "getattr": lambda s: list(s.getattr("/p/e_read", ["Size"])),
    "find": lambda s: list(s.find("/p", "Size>0")),
    "selectattr": lambda s: list(s.selectattr(["/p:FILE", "/p:Size"], "")),
    "selectattr_union": lambda s: list(s.selectattr_union(["/p"], ["FILE", "Size"], "")),
    "select_query": lambda s: list(s.select_query(["/p:Size"], "")),
    "select_in": lambda s: s.select_in("/p", "Size", [1, 2], ["Note"]),
    "cd": lambda s: s.cd("/p"),
    "acl_show": lambda s: s.acl_show("/p"),
    "constraint_list": lambda s: s.constraint_list("/p"),
    "list_indexes": lambda s: s.list_indexes("/p"),
}
WRITES: dict[str, Operation] = {
    "createdir": lambda s: s.createdir("/p/new"),
    "rmdir": lambda s: s.rmdir("/p/doomed"),
    "addattr": lambda s: s.addattr("/p", "New", "int"),
    "removeattr": lambda s: s.removeattr("/p", "Unused"),
    "clearattr": lambda s: s.clearattr("/p", "Note"),
    "ensure_attributes": lambda s: s.ensure_attributes("/p", {"Fresh": None}),
    "addentry": lambda s: s.addentry("/p/e_new", {"Size": 1}),
    "addentries": lambda s: s.addentries("/p", [("e_bulk", {"Size": 2})]),
    "setattr": lambda s: s.setattr("/p/e_set", {"Size": 3}),
    "updateattr": lambda s: s.updateattr("/p/e_set", [("Size", "Size+1")], ""),
    "rm": lambda s: s.rm("/p/e_rm"),
    "sequence_create": lambda s: s.sequence_create("new_seq", "/p"),
    "sequence_next": lambda s: s.sequence_next("/p/seq"),
    "sequences_next": lambda s: s.sequences_next({"/p/seq": 2, "/p/old_seq": 1}),
    "sequence_remove": lambda s: s.sequence_remove("/p/old_seq"),
    "constraint_add_check": lambda s: s.constraint_add_check("/p", "Size >= 0"),
    "constraint_add_unique": lambda s: s.constraint_add_unique("/p", ["Note"]),
    "constraint_add_reference": lambda s: s.constraint_add_reference("/p", "Size", "/p:Size"),
    "constraint_add_not_null": lambda s: s.constraint_add_not_null("/p", "Size"),
    "constraint_drop": lambda s: s.constraint_drop("/p", s.constraint_list("/p")[0].split()[0]),
    "create_index": lambda s: s.create_index("/p", ["Note", "Size"]),
    "drop_index": lambda s: s.drop_index("/p", s.list_indexes("/p")[0].name),
}
ROOT_ONLY: dict[str, Operation] = {
    "chown": lambda s: s.chown("/p", "alice"),
}


def _owner_only(group_rights: str) -> dict[str, Operation]:
    return {
        "acl_grant": lambda s: s.acl_grant("/p", "group:physicists", "r"),
        "acl_revoke": lambda s: s.acl_revoke("/p", "carol", "w"),
        "chmod": lambda s: s.chmod("/p", "rwx", group_rights),  # leaves the rights as they are
        "chgrp": lambda s: s.chgrp("/p", "physicists"),
    }


def _everything(group_rights: str) -> dict[str, Operation]:
    return {**READS, **WRITES, **_owner_only(group_rights), **ROOT_ONLY}


OWNER = set(READS) | set(WRITES) | set(_owner_only("r-x"))
EXPECTED = {
    "r-x": {
        "root": OWNER | set(ROOT_ONLY),
        "alice": OWNER,  # the owner
        "bob": set(READS),  # group member, group may read
        "carol": set(),  # other
        "anonymous": set(),
    },
    "rwx": {
        "root": OWNER | set(ROOT_ONLY),
        "alice": OWNER,
        "bob": set(READS) | set(WRITES),  # group member, group may write
        "carol": set(),
        "anonymous": set(),
    },
}


def _populate(root: CatalogueSession, group_rights: str) -> None:
    root.createdir("/p")
    root.chown("/p", "alice")
    root.chgrp("/p", "physicists")
    root.chmod("/p", "rwx", group_rights)
    root.acl_revoke("/p", EVERYBODY, "rwx")
    root.addattr("/p", "Size", "int")
    root.addattr("/p", "Note", "varchar(10)")
    root.addattr("/p", "Unused", "int")
    root.createdir("/p/doomed")
    root.addentries("/p", [("e_read", {"Size": 1}), ("e_set", {"Size": 1}), ("e_rm", {"Size": 1})])
    root.chmod("/p/e_*", "rw-", "rw-")  # entry rights never stand in the way here
    root.sequence_create("seq", "/p")
    root.sequence_create("old_seq", "/p")
    root.constraint_add_not_null("/p", "Size")
    root.create_index("/p", ["Size"])


def test_the_matrix_names_every_operation_once() -> None:
    names = [*READS, *WRITES, *_owner_only("r-x"), *ROOT_ONLY]
    assert len(names) == len(set(names)) == len(_everything("r-x"))


@pytest.mark.parametrize("user", ["root", "alice", "bob", "carol", "anonymous"])
@pytest.mark.parametrize("group_rights", list(EXPECTED))
def test_permission_matrix(
    catalogue: Catalogue, root: CatalogueSession, group_rights: str, user: str
) -> None:
    """Each operation either succeeds or raises PermissionDenied (anything else fails)."""
    _populate(root, group_rights)
    session = catalogue.session(user)
    allowed = set()
    for name, operation in _everything(group_rights).items():
        try:
            operation(session)
        except PermissionDenied:
            continue
        allowed.add(name)
    assert allowed == EXPECTED[group_rights][user]


# -- entry rights ---------------------------------------------------------------------
# /w: alice's, group physicists with rwx, so bob has every directory right through the group;
# alice's entries then decide: "open" rw- for the group, "readonly" r--, "hidden" ---.

ENTRY_RIGHTS = {"open": "rw-", "readonly": "r--", "hidden": "---"}


@pytest.fixture
def entries(catalogue: Catalogue, root: CatalogueSession) -> CatalogueSession:
    root.createdir("/w")
    root.chown("/w", "alice")
    root.chgrp("/w", "physicists")
    root.chmod("/w", "rwx", "rwx")
    root.acl_revoke("/w", EVERYBODY, "rwx")
    root.addattr("/w", "Size", "int")
    alice = catalogue.session("alice")
    alice.addentries("/w", [(name, {"Size": 1}) for name in ENTRY_RIGHTS])
    for name, rights in ENTRY_RIGHTS.items():
        alice.chmod(f"/w/{name}", "rw-", rights)
    return alice


def _sizes(session: CatalogueSession) -> dict[str, object]:
    return {name: size for name, (size,) in session.getattr("/w/*", ["Size"])}


def test_entry_rights_stand_in_the_way_of_reading(
    catalogue: Catalogue, entries: CatalogueSession
) -> None:
    bob = catalogue.session("bob")
    readable = ["open", "readonly"]
    assert [p for p, _ in bob.dir("/w")] == [f"/w/{n}" for n in readable]
    assert sorted(bob.find("/w", "Size = 1")) == [f"/w/{n}" for n in readable]
    assert sorted(bob.selectattr(["/w:FILE"], "")) == [(n,) for n in readable]
    assert list(bob.selectattr(["count(/w:FILE)"], "")) == [(2,)]
    assert sorted(bob.selectattr_union(["/w"], ["FILE"], "")) == [(n,) for n in readable]
    assert list(bob.select_query(["/w:FILE"], "order by /w:FILE")) == [
        {"/w:FILE": n} for n in readable
    ]
    assert bob.select_in("/w", "Size", [1], []) == [(1,), (1,)]
    assert list(bob.getattr("/w/readonly", ["Size"])) == [("readonly", [1])]
    with pytest.raises(PermissionDenied, match="/w/hidden"):
        bob.getattr("/w/hidden", ["Size"])
    with pytest.raises(NoSuchEntry):  # a missing entry is not mistaken for a hidden one
        bob.getattr("/w/missing", ["Size"])
    # the owner and root see all three
    assert (
        sorted(_sizes(entries)) == sorted(_sizes(catalogue.session("root"))) == sorted(ENTRY_RIGHTS)
    )


def test_entry_rights_stand_in_the_way_of_writing(
    catalogue: Catalogue, entries: CatalogueSession
) -> None:
    bob = catalogue.session("bob")
    assert bob.setattr("/w/open", {"Size": 2}) == 1
    for name in ("readonly", "hidden"):
        with pytest.raises(PermissionDenied, match=f"/w/{name}"):
            bob.setattr(f"/w/{name}", {"Size": 2})
        with pytest.raises(PermissionDenied, match=f"/w/{name}"):
            bob.rm(f"/w/{name}")
        assert bob.updateattr(f"/w/{name}", [("Size", "Size+10")], "") == 0
    assert bob.setattr("/w/*", {"Size": 3}) == 1  # a pattern touches only writable entries
    assert bob.updateattr("/w", [("Size", "Size+1")], "") == 1
    assert bob.clearattr("/w", "Size") is None  # clears only the writable entry
    assert _sizes(entries) == {"open": None, "readonly": 1, "hidden": 1}
    assert bob.rm("/w/*") == 1
    assert sorted(_sizes(entries)) == ["hidden", "readonly"]
    # the owner is held back by nothing of that
    assert entries.setattr("/w/*", {"Size": 9}) == 2
    assert entries.rm("/w/hidden") == 1


def test_queries_return_only_readable_entries(catalogue: Catalogue, root: CatalogueSession) -> None:
    root.createdir("/q")
    root.acl_grant("/q", "group:physicists", "rw")
    root.addattr("/q", "Size", "int")
    alice = catalogue.session("alice")
    root.acl_grant("/q", "alice", "rw")
    alice.addentries("/q", [("public", {"Size": 1}), ("private", {"Size": 2})])
    alice.chmod("/q/private", "rw-", "---")
    bob = catalogue.session("bob")
    assert [p for p, _ in bob.dir("/q")] == ["/q/public"]
    assert list(bob.find("/q", "")) == ["/q/public"]
    assert list(bob.selectattr(["/q:FILE", "/q:Size"], "")) == [("public", 1)]
    assert list(bob.selectattr(["count(/q:FILE)"], "")) == [(1,)]
    with pytest.raises(PermissionDenied):
        bob.getattr("/q/private", ["Size"])
    # bob may write the directory but not alice's entries (their group rights are r--)
    with pytest.raises(PermissionDenied):
        bob.setattr("/q/public", {"Size": 5})
    assert bob.setattr("/q/*", {"Size": 5}) == 0
    assert bob.rm("/q/*") == 0
    assert bob.updateattr("/q", [("Size", "Size+1")], "") == 0
    bob.addentry("/q/bobs", {"Size": 9})
    assert bob.setattr("/q/bobs", {"Size": 10}) == 1
    assert sorted(p for p, _ in alice.dir("/q")) == ["/q/bobs", "/q/private", "/q/public"]
    assert sorted(root.find("/q", "")) == ["/q/bobs", "/q/private", "/q/public"]
    with pytest.raises(PermissionDenied):
        bob.chmod("/q/public", "rw-", "rw-")


def test_plain_directories_have_no_entry_permissions(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/plain", plain=True)
    root.acl_grant("/plain", "bob", "rw")
    root.addentry("/plain/e", {})
    root.chmod("/plain/e", "rw-", "---")
    bob = catalogue.session("bob")
    assert [p for p, _ in bob.dir("/plain")] == ["/plain/e"]
    assert bob.rm("/plain/e") == 1


def test_anonymous_reads_what_everybody_may_read(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/pub")
    root.addentry("/pub/e", {})
    anonymous = catalogue.session("anonymous")
    assert list(anonymous.dir("/pub")) == [("/pub/e", "entry")]
    with pytest.raises(PermissionDenied):
        anonymous.addentry("/pub/f", {})
    with pytest.raises(PermissionDenied):
        anonymous.createdir("/mine")


def test_user_administration_and_ownership_changes_are_guarded(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/d")
    alice = catalogue.session("alice")
    with pytest.raises(PermissionDenied):
        alice.chown("/d", "alice")
    with pytest.raises(PermissionDenied):
        alice.acl_grant("/d", "alice", "rwx")
    with pytest.raises(PermissionDenied):
        alice.chmod("/d", "rwx", "rwx")


# -- what rights() tells front-ends -----------------------------------------------------


@pytest.mark.parametrize("group_rights", list(EXPECTED))
def test_rights_of_a_directory_say_what_the_matrix_grants(
    catalogue: Catalogue, root: CatalogueSession, group_rights: str
) -> None:
    _populate(root, group_rights)
    for user, allowed in EXPECTED[group_rights].items():
        rights = catalogue.session(user).rights("/p")
        assert ("r" in rights) == (set(READS) <= allowed), (user, rights)
        assert ("w" in rights) == (set(WRITES) <= allowed), (user, rights)


def test_rights_of_an_entry_are_its_own_and_hidden_ones_are_refused(
    catalogue: Catalogue, entries: CatalogueSession
) -> None:
    bob = catalogue.session("bob")
    assert bob.rights("/w") == "rwx"
    assert bob.rights("/w/open") == "rw-"
    assert bob.rights("/w/readonly") == "r--"
    with pytest.raises(PermissionDenied, match="/w/hidden"):
        bob.rights("/w/hidden")
    with pytest.raises(NoSuchEntry, match="/w/missing"):
        bob.rights("/w/missing")
    assert entries.rights("/w/hidden") == "rw-"  # alice's own permissions
    assert catalogue.session("root").rights("/w/hidden") == "rwx"
    with pytest.raises(PermissionDenied):  # carol may not read /w at all
        catalogue.session("carol").rights("/w/open")
    assert catalogue.session("carol").rights("/w") == "---"
