"""Alembic environment: runs on the Database handed over in ``config.attributes``."""

from alembic import context

from plinth.db.engine import Database
from plinth.db.tables import all_tables

database: Database = context.config.attributes["database"]
target_metadata = all_tables()

with database.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=database.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
