from tests.catalogue_bookkeeping.conftest import pair  # noqa: F401  (the fixture)
