"""Property: through the whole engine (generated columns, path resolution, permissions), find
returns exactly the entries the pure-Python evaluator selects among those the user may read.

Data and conditions come from the query package's own property test, so the two tests
explore the same language; here each entry is also randomly unreadable for the user.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.query.evaluate import evaluate_find
from tests.query.test_against_evaluator import (
    CWD,
    SCHEMAS,
    conditions,
    datasets,
    directories,
    resolve,
)

CATALOGUE_TYPES = {int: "bigint", float: "double", str: "varchar(16)"}
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _create(root: CatalogueSession) -> None:
    root.createdir("/d")
    for path, schema in SCHEMAS.items():
        root.createdir(path)
        root.acl_grant(path, "group:physicists", "r")
        for name, type_ in schema.items():
            root.addattr(path, name, CATALOGUE_TYPES[type_])


def _load(root: CatalogueSession, data: dict[str, list[dict[str, Any]]], hidden: set[str]) -> None:
    for path, rows in data.items():
        root.rm(path + "/*")
        root.addentries(
            path, [(row["file"], {k: v for k, v in row.items() if k != "file"}) for row in rows]
        )
        for row in rows:
            if row["file"] in hidden:
                root.chmod(f"{path}/{row['file']}", "rw-", "---")


def _readable(data: dict[str, list[dict[str, Any]]], hidden: set[str]) -> dict[str, Any]:
    return {path: [r for r in rows if r["file"] not in hidden] for path, rows in data.items()}


def test_find_through_the_engine_agrees_with_the_evaluator(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    _create(root)
    bob = catalogue.session("bob")  # a group member: reads what the entries' rights allow
    bob.cd(CWD)

    @SETTINGS
    @given(
        data=datasets(),
        condition=st.none() | conditions,
        hidden=st.sets(st.sampled_from([f"{p}{i}" for p in "ab" for i in range(5)])),
    )
    def check(
        data: dict[str, list[dict[str, Any]]], condition: str | None, hidden: set[str]
    ) -> None:
        _load(root, data, hidden)
        expected = evaluate_find(
            "a", condition or "", directories(_readable(data, hidden)), resolve
        )
        found = list(bob.find("a", condition or ""))
        assert sorted(found) == sorted(f"{CWD}/a/{name}" for name in expected)

    check()
