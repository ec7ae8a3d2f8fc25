"""Raw bytes on the wire for the rest of the command table: what an unmodified AMGA client
reads from each command (companion of ``test_wire_bytes``)."""

from __future__ import annotations

import re

from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer, root_peer
from tests.protocol.serving import RunningServer

OK = b"0\n\x04\x04"


def _root(amga: RunningServer) -> RawPeer:
    return root_peer(amga.port, ROOT_PASSWORD)


def _directory(peer: RawPeer, path: str, *attributes: str) -> None:
    assert peer.command(f"createdir {path}") == OK
    for attribute in attributes:
        assert peer.command(f"addattr {path} {attribute}") == OK


def test_createdir_plain_and_rmdir(amga: RunningServer) -> None:
    with _root(amga) as peer:
        assert peer.command("createdir /p plain") == OK
        assert peer.command("dir /") == b"0\n/p\ncollection\n\x04\x04"
        assert peer.command("addattr /p n int") == OK
        assert peer.command("addentry /p/e n 1") == OK
        assert peer.command("getattr /p/e n") == b"0\ne\n1\n\x04\x04"
        assert peer.command("rmdir /p") == b"17 directory not empty: /p\n\x04\x04"
        assert peer.command("rm /p/e") == OK
        assert peer.command("rmdir /p") == OK
        assert peer.command("dir /") == OK
        assert peer.command("rmdir /p") == b"11 no such directory: /p\n\x04\x04"


def test_addentries_setattr_and_rm(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/d", "n int", "s varchar(20)")
        assert peer.command("addentries /d/a /d/b /d/c") == OK
        assert peer.command("getattr /d/* n s") == b"0\na\n\n\nb\n\n\nc\n\n\n\x04\x04"
        assert peer.command("setattr /d/* n 7") == OK
        assert peer.command("setattr /d/a n 5 s 'x y'") == OK
        assert peer.command("getattr /d/* n s") == b"0\na\n5\nx y\nb\n7\n\nc\n7\n\n\x04\x04"
        assert peer.command("rm /d/c") == OK
        assert peer.command("dir /d") == b"0\n/d/a\nentry\n/d/b\nentry\n\x04\x04"
        assert peer.command("rm /d/*") == OK
        assert peer.command("dir /d") == OK


def test_updateattr_and_update(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/u", "n int", "s varchar(20)")
        assert peer.command("addentry /u/a n 5") == OK
        assert peer.command("addentry /u/b n 8") == OK
        assert peer.command("updateattr /u/* n 'n+1' s '\"big\"' 'n>7'") == OK
        assert peer.command("getattr /u/* n s") == b"0\na\n5\n\nb\n9\nbig\n\x04\x04"
        assert peer.command("update /u/* n 'n*2' ''") == OK
        assert peer.command("getattr /u/* n") == b"0\na\n10\nb\n18\n\x04\x04"


def test_removeattr_and_clearattr(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/c", "n int", "s varchar(20)")
        assert peer.command("addentry /c/a n 1 s 'kept?'") == OK
        assert peer.command("clearattr /c s") == OK
        assert peer.command("getattr /c/a n s") == b"0\na\n1\n\n\x04\x04"
        assert peer.command("removeattr /c s") == OK
        assert peer.command("listattr /c") == b"0\nn\nint\n\x04\x04"
        response = peer.command("removeattr /c s")
        assert re.fullmatch(rb"13 [^\n]*s[^\n]*\n\x04\x04", response), response


def test_removeattr_drops_an_attribute_entries_still_hold(amga: RunningServer) -> None:
    """AMGA's meaning: the column goes, values and all (the bookkeeping's "only when unused"
    rule belongs to its writer, not to the catalogue command)."""
    with _root(amga) as peer:
        _directory(peer, "/held", "n int", "s varchar(20)")
        assert peer.command("addentry /held/a n 1 s 'in use'") == OK
        assert peer.command("removeattr /held s") == OK
        assert peer.command("listattr /held") == b"0\nn\nint\n\x04\x04"
        assert peer.command("getattr /held/a n") == b"0\na\n1\n\x04\x04"


def test_transaction_commit_and_abort_outside_an_upload(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/t")
        assert peer.command("transaction") == OK
        assert peer.command("addentry /t/gone") == OK
        assert peer.command("abort") == OK
        assert peer.command("transaction") == OK
        assert peer.command("addentry /t/kept") == OK
        assert peer.command("commit") == OK
        assert peer.command("dir /t") == b"0\n/t/kept\nentry\n\x04\x04"
        assert peer.command("commit") == b"39 no transaction to commit\n\x04\x04"
        assert peer.command("abort") == b"39 no transaction to abort\n\x04\x04"
        assert peer.command("transaction") == OK
        response = peer.command("transaction")
        assert response == b"39 a transaction is already open; commit or abort it first\n\x04\x04"
        assert peer.command("abort") == OK


def test_sequences(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/s")
        assert peer.command("sequence_create seq /s 5 100") == OK
        assert peer.command("sequence_next /s/seq") == b"0\n100\n\x04\x04"
        assert peer.command("sequence_next /s/seq") == b"0\n105\n\x04\x04"
        assert peer.command("sequence_create one /s") == OK
        assert peer.command("sequence_next /s/one") == b"0\n1\n\x04\x04"
        assert peer.command("sequence_remove /s/seq") == OK
        assert peer.command("sequence_next /s/seq") == b"35 no such sequence: /s/seq\n\x04\x04"


def test_constraints(amga: RunningServer) -> None:
    with _root(amga) as peer:
        _directory(peer, "/k", "n int", "m int")
        _directory(peer, "/target", "n int")
        assert peer.command("addentry /target/t1 n 1") == OK
        assert peer.command("addentry /k/a n 1 m 2") == OK
        assert peer.command("constraint_add_not_null /k n nn1") == OK  # the client's names
        assert peer.command("constraint_add_unique /k n,m u1") == OK
        assert peer.command("constraint_add_check /k 'm>0' c1") == OK
        assert peer.command("constraint_add_reference /k n /target:n r1") == OK
        assert peer.command("constraint_add_check /k 'm<9'") == OK  # none: the engine's
        listing = peer.command("constraint_list /k")
        match = re.fullmatch(
            rb"0\nnn1 not_null n\nu1 unique n,m\nc1 check m>0\nr1 reference n -> /target:n\n"
            rb"(check_\d+) check m<9\n\x04\x04",
            listing,
        )
        assert match, listing
        response = peer.command("addentry /k/b m 3")
        assert response == b"37 /k: attribute 'n' may not be empty (nn1)\n\x04\x04"
        assert peer.command("constraint_add_check /k 'm>1' c1") == (
            b"31 /k has a constraint named 'c1' already\n\x04\x04"
        )
        for name in ("nn1", "u1", "c1", "r1", match.group(1).decode()):
            assert peer.command(f"constraint_drop /k {name}") == OK
        assert peer.command("constraint_list /k") == OK
        assert peer.command("constraint_drop /k nn1") == b"38 no constraint 'nn1' on /k\n\x04\x04"


def test_whoami_names_the_user_of_the_session(amga: RunningServer) -> None:
    with _root(amga) as peer:
        assert peer.command("whoami") == b"0\nroot\n\x04\x04"
    with RawPeer(amga.port) as peer:
        peer.login("anonymous")
        assert peer.command("whoami") == b"0\nanonymous\n\x04\x04"
