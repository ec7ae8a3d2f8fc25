from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import (
    AuthenticationFailed,
    GroupExists,
    InvalidName,
    NoSuchGroup,
    NoSuchUser,
    PermissionDenied,
    UserExists,
)
from tests.catalogue.conftest import ALICE_PASSWORD


def test_authenticate_with_the_right_password(catalogue: Catalogue) -> None:
    assert catalogue.authenticate("alice", ALICE_PASSWORD) == "alice"


def test_authenticate_rejects_wrong_credentials(catalogue: Catalogue) -> None:
    attempts = [
        ("alice", "wrong"),
        ("alice", None),
        ("alice", ""),
        ("bob", "x"),
        ("bob", None),
        ("nobody", "x"),
        ("alice' --", ALICE_PASSWORD),
        ("root", None),
    ]
    for user, password in attempts:
        with pytest.raises(AuthenticationFailed):
            catalogue.authenticate(user, password)


def test_anonymous_needs_no_password(catalogue: Catalogue) -> None:
    assert catalogue.authenticate("anonymous", None) == "anonymous"
    assert catalogue.session("anonymous").whoami() == "anonymous"


def test_add_user_with_password_dn_and_group(catalogue: Catalogue) -> None:
    catalogue.add_user("root", "dave", "pw", dn="/C=CH/O=CERN/CN=Dave", groups=["physicists"])
    assert catalogue.authenticate("dave", "pw") == "dave"
    assert catalogue.user_for_dn("/C=CH/O=CERN/CN=Dave") == "dave"
    dave = next(u for u in catalogue.list_users("root") if u.name == "dave")
    assert dave.groups == ("physicists",) and dave.has_password
    assert catalogue.session("dave").principal.groups == {"physicists"}


def test_user_administration_is_for_root_only(catalogue: Catalogue) -> None:
    with pytest.raises(PermissionDenied):
        catalogue.add_user("alice", "eve", "pw")
    with pytest.raises(PermissionDenied):
        catalogue.list_users("alice")
    with pytest.raises(PermissionDenied):
        catalogue.add_group("alice", "g")


def test_duplicate_and_invalid_users_and_groups(catalogue: Catalogue) -> None:
    with pytest.raises(UserExists):
        catalogue.add_user("root", "alice")
    with pytest.raises(GroupExists):
        catalogue.add_group("root", "physicists")
    with pytest.raises(NoSuchGroup):
        catalogue.add_user("root", "eve", groups=["nogroup"])
    with pytest.raises(InvalidName):
        catalogue.add_user("root", "group:x")
    with pytest.raises(NoSuchUser):
        catalogue.add_group_member("root", "physicists", "nobody")
    assert "eve" not in {u.name for u in catalogue.list_users("root")}


def test_unknown_dn_and_unknown_session_user_fail(catalogue: Catalogue) -> None:
    with pytest.raises(AuthenticationFailed):
        catalogue.user_for_dn("/CN=nobody")
    with pytest.raises(NoSuchUser):
        catalogue.session("nobody")


def test_group_membership_is_added_once(catalogue: Catalogue) -> None:
    catalogue.add_group("root", "admins")
    catalogue.add_group_member("root", "admins", "alice")
    catalogue.add_group_member("root", "admins", "alice")
    alice = next(u for u in catalogue.list_users("root") if u.name == "alice")
    assert alice.groups == ("admins",)
