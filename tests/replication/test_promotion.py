"""Promoting the standby (its own module: the cluster has no standby afterwards)."""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.engines import create_engine, read_connection, set_read_routing
from bookkeeping.replication.pgcluster import PgCluster
from bookkeeping.replication.routing import ReadRouter
from tests.replication.conftest import replayed, wait_for


def test_a_promoted_standby_is_set_aside_and_can_serve_as_the_new_primary(
    cluster: PgCluster,
) -> None:
    primary = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    standby_url = cluster.standbys[0].url("bk")
    router = ReadRouter(primary, [create_engine(standby_url)], probe_interval_s=0.05)
    set_read_routing(primary, router)
    promoted = create_engine(standby_url)
    try:
        session = Catalogue(primary).session("root")
        session.createdir("/before")
        replayed(standby_url, primary)
        with read_connection(primary, since=0) as connection:
            assert connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar()

        with promoted.connect() as connection:
            connection.execute(sa.text("SELECT pg_promote(wait => true)"))
            connection.commit()

        def set_aside() -> bool:
            with read_connection(primary, since=0) as connection:
                on_primary = connection.execute(sa.text("SELECT NOT pg_is_in_recovery()"))
                return bool(on_primary.scalar()) and router.status()[0].state == "not a standby"

        wait_for(set_aside, "the promoted standby to be set aside")
        # Reads keep working, on the old primary.
        assert [name for name, _ in Catalogue(primary).session("root").dir("/")] == ["/before"]
        # The promoted server is accepted as a primary and takes writes.
        ReadRouter(promoted, [])
        new_session = Catalogue(promoted).session("root")
        new_session.createdir("/after")
        assert sorted(name for name, _ in new_session.dir("/")) == ["/after", "/before"]
    finally:
        set_read_routing(primary, None)
        router.dispose()
        promoted.dispose()
        primary.dispose()
