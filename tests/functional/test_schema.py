"""The migrations build exactly the tables the ORM describes, on every store: a hand-written
migration that forgot a column, an index or a primary key fails here, not in production."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from credence.store.orm import Base


def test_the_migrated_schema_is_the_orms(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
