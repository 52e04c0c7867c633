"""Alembic environment: the engine comes from credence.store.db, never from an ini file."""

from alembic import context

from credence.store.orm import Base
from credence.store.roles import as_owner

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    as_owner(connection)  # once the schema has an owner role (credence db roles), what migrations create is its
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
