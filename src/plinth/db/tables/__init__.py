"""SQLAlchemy Core tables, one module per component, all on one ``metadata``."""

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def all_tables() -> MetaData:
    """The metadata with every component's tables registered (for Alembic and tests)."""
    from plinth.db.tables import artifacts, registry, tracking  # noqa: F401  (registers them)

    return metadata
