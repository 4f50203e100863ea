"""Alembic environment: migrates the database that DATABASE_URL names.

``clinic.db.migrate.upgrade(url)`` passes its URL in ``config.attributes``;
the ``alembic`` command line uses ``DATABASE_URL`` (default
``sqlite:///var/clinic.db`` under the project root).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from clinic.db.engine import make_engine
from clinic.db.models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("embedded"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: prints the SQL instead of running it."""
    from clinic.db.engine import database_url

    url = database_url(config.attributes.get("database_url"))
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.attributes.get("database_url"))
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite cannot ALTER most things; batch mode copies the table instead.
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
