"""Every operation x (owner, group member, other, anonymous, root).

The directory /p belongs to alice, its group is physicists (bob is a member) with rights
r-x, and nobody else has any right (the ACL inherited from / is revoked). So the owner and
root may do everything, the group member may read, carol (other) and anonymous nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bookkeeping.amga_adapter.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.errors import PermissionDenied
from bookkeeping.amga_adapter.permissions import EVERYBODY

Operation = Callable[[CatalogueSession], object]

READS: dict[str, Operation] = {
    "dir": lambda s: list(s.dir("/p")),
    "listattr": lambda s: s.listattr("/p"),
    "getattr": lambda s: list(s.getattr("/p/e_read", ["Size"])),
    "find": lambda s: list(s.find("/p", "Size>0")),
    "selectattr": lambda s: list(s.selectattr(["/p:FILE", "/p:Size"], "")),
    "select_query": lambda s: list(s.select_query(["/p:Size"], "")),
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
    "sequence_remove": lambda s: s.sequence_remove("/p/old_seq"),
    "constraint_add": lambda s: s.constraint_add_check("/p", "Size >= 0"),
    "constraint_drop": lambda s: s.constraint_drop("/p", s.constraint_list("/p")[0].split()[0]),
    "create_index": lambda s: s.create_index("/p", ["Note", "Size"]),
    "drop_index": lambda s: s.drop_index("/p", s.list_indexes("/p")[0].name),
}
OWNER_ONLY: dict[str, Operation] = {
    "acl_grant": lambda s: s.acl_grant("/p", "group:physicists", "r"),
    "acl_revoke": lambda s: s.acl_revoke("/p", "carol", "w"),
    "chmod": lambda s: s.chmod("/p", "rwx", "r-x"),
    "chgrp": lambda s: s.chgrp("/p", "physicists"),
}
EVERYTHING = {**READS, **WRITES, **OWNER_ONLY}
EXPECTED = {
    "root": set(EVERYTHING),
    "alice": set(EVERYTHING),  # the owner
    "bob": set(READS),  # group member
    "carol": set(),  # other
    "anonymous": set(),
}


def _populate(root: CatalogueSession) -> None:
    root.createdir("/p")
    root.chown("/p", "alice")
    root.chgrp("/p", "physicists")
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


@pytest.mark.parametrize("user", list(EXPECTED))
def test_permission_matrix(catalogue: Catalogue, root: CatalogueSession, user: str) -> None:
    _populate(root)
    session = catalogue.session(user)
    allowed = set()
    for name, operation in EVERYTHING.items():
        try:
            operation(session)
        except PermissionDenied:
            continue
        allowed.add(name)
    assert allowed == EXPECTED[user]


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
